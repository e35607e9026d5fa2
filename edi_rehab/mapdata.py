"""Load and validate the rule data shipped in ``maps/`` (the ``edi_rehab.maps`` package).

Theory of operation
-------------------
Code lists live in XML files under ``maps/``, one XSD each under ``maps/schema/``. Every file is
parsed with a hardened lxml parser (no DTD, no entities, no network, no huge trees), validated against
its schema, then checked for the things a schema cannot say (cross references, date order). Any
failure raises :class:`MapError` naming the file and line: a broken map must stop the tool, because a
silently missing NCCI pair or timed code would turn into wrong advice on real claims.

The result is a :class:`Maps` bundle of frozen records with dictionary lookups. The package
default is loaded once per process (``functools.lru_cache``), since a pre-commit hook calls
:func:`load_maps` for every file it checks. The official CMS PTP and MUE files, parsed by
:mod:`edi_rehab.cms_files`, are merged in through ``load_maps(extra_ptp=..., mue=...)``.

Invariants
----------
1. This module reads only package data (``importlib.resources``) or a directory the caller names;
   it never writes, never touches the network, never reads the CMS files itself.
2. Codes are stored stripped and upper-case; lookups normalise their argument the same way.
3. A PTP edit is active when ``effective <= dos < deletion`` (deletion exclusive). This is the
   semantics most public loaders use and the reference's section 3.4 describes; it makes an edit
   deleted on its own effective date (a retroactive deletion) never active. The reference (9.6)
   flags inclusive-versus-exclusive as unverified against the CMS readme.
4. Indicator-9 edits are kept (so history and matching can see them) but never fire.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import FrozenInstanceError
from datetime import date
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    # lxml is imported where XML is parsed, not here: a run that takes the compiled maps
    # (edi_rehab/compiled_maps.py) never needs it, and importing it is a fixed start-up cost.
    from lxml import etree

__all__ = [
    "MAP_FILES",
    "AdjustmentGroup",
    "AppealLevel",
    "CORRECTION_ROUTES",
    "Carc",
    "CodeInfo",
    "MapError",
    "Maps",
    "ModifierInfo",
    "ModifierPolicy",
    "MueEdit",
    "ParsedMap",
    "PayerProfile",
    "Places",
    "Provenance",
    "PtpEdit",
    "Rarc",
    "TelehealthAuthority",
    "TelehealthListing",
    "TELEHEALTH_MARKINGS",
    "TherapyThreshold",
    "build_maps",
    "load_maps",
    "match_profile",
    "normalize_code",
    "parse_map",
    "shipped_map_files",
    "shipped_maps_ready",
    "use_shipped_maps",
]

#: The map files, in load order. Each has ``schema/<stem>.xsd``.
MAP_FILES: tuple[str, ...] = (
    "codes.xml",
    "ncci-ptp.xml",
    "modifiers.xml",
    "payers.xml",
    "carc.xml",
    "rarc.xml",
    "places.xml",
    # Last: the release names the version of every file above and is checked against them.
    "release.xml",
)

UNIT_CLASSES = ("timed15", "timed-other", "untimed", "ambiguous", "measured")
UNIT_METHODS = ("cms", "per-code")
NCCI_MODIFIERS = ("59", "XE", "XP", "XS", "XU")
UNIT_GROUPING_KEYS = ("date", "discipline", "rendering-provider")
REPLACEMENT_FREQUENCIES = ("7", "1")
NO_ORDER = "none"


class MapError(Exception):
    """A map file is malformed, violates its schema, or contradicts another map.

    Attributes:
        file: the map's file name (``codes.xml``) or the name the caller gave to :func:`parse_map`.
        line: 1-based line of the offending element, or ``None`` when no line applies.
        message: what is wrong, in words meant for the person editing the file.
    """

    def __init__(self, file: str, line: int | None, message: str) -> None:
        super().__init__(file, line, message)
        self.file = file
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


# --------------------------------------------------------------------------------------------
# Public data model
# --------------------------------------------------------------------------------------------
#
# The records are plain slotted classes, not dataclasses: the check path imports this module
# on every run, and ``@dataclass`` spent ~0.7 M instructions on each of the 19 classes while
# the module was imported, even with its methods compiled already (issue 13). Each record
# behaves as ``@dataclass(frozen=True, slots=True)`` made it: the same constructor (fields in
# order, the same defaults, a fresh value for each instance where a default factory was),
# ``repr``, ``==`` and ``hash`` over the fields in order (identity for the three that had
# ``eq=False``), ``__match_args__``, FrozenInstanceError on assignment, and pickling through
# the constructor. ``dataclasses.fields``, ``replace``, ``asdict`` and ``is_dataclass`` work
# on them too: ``__dataclass_fields__`` is made on first use (:class:`_DataclassFields`).


class _Fresh:
    """The default of a field whose default is made new for each record (a dataclass's
    ``default_factory``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<fresh>"


_FRESH = _Fresh()


class _DataclassFields:
    """A record class's ``__dataclass_fields__``, made the first time something asks for it
    (``dataclasses.fields``, ``replace``, ``asdict``, ``is_dataclass``): the Field objects
    ``@dataclass`` makes for the same annotations and defaults, taken from a stand-in dataclass
    built then, so that a process that never asks pays nothing for them."""

    def __get__(self, instance: object, owner: type) -> dict:
        if not owner.__slots__:  # the bases themselves are no dataclasses
            raise AttributeError("__dataclass_fields__")
        fields = _stand_in_dataclass(owner).__dataclass_fields__
        owner.__dataclass_fields__ = fields  # later lookups find the dict itself
        return fields


def _stand_in_dataclass(cls: type) -> type:
    import inspect

    namespace = {"__annotations__": dict(cls.__annotations__), "__module__": cls.__module__, "__qualname__": cls.__qualname__}
    for parameter in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if parameter.default is _FRESH:
            namespace[parameter.name] = dataclasses.field(default_factory=cls._default_factories[parameter.name])
        elif parameter.default is not inspect.Parameter.empty:
            namespace[parameter.name] = parameter.default
    eq = cls.__eq__ is not object.__eq__
    return dataclasses.dataclass(frozen=True, eq=eq)(type(cls.__name__, (), namespace))


class _FrozenRecord:
    """What every map record shares: frozen slots named in ``__slots__``, the fields in order
    (they must be the class's annotations, in the same order), repr and pickling."""

    __slots__ = ()
    __dataclass_fields__ = _DataclassFields()
    #: field name -> what makes its default, for the fields whose default is ``_FRESH``
    _default_factories: Mapping[str, object] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        names = cls.__slots__
        if tuple(cls.__dict__.get("__annotations__", ())) != names:
            raise TypeError(f"{cls.__name__}: __slots__ must list the annotated fields in order")
        cls.__match_args__ = names
        if not names:  # _Record itself
            return
        # one C call gives every field's value, in order (a 1-tuple for one field)
        cls._field_values = attrgetter(*names) if len(names) > 1 else staticmethod(lambda record, name=names[0]: (getattr(record, name),))

    def __repr__(self) -> str:
        cls = type(self)
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(cls.__slots__, cls._field_values(self)))
        return f"{cls.__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple:
        # rebuilt by calling the class with the fields in order (the compiled maps' blob)
        cls = type(self)
        return cls, cls._field_values(self)


class _Record(_FrozenRecord):
    """A record equal to another of its class with equal fields, and hashed by them."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._field_values(self) == other._field_values(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._field_values(self))


class Provenance(_Record):
    """Where a map file's facts come from."""

    file: str
    version: str
    date: date
    #: source id -> citation, as listed in the file's ``<provenance>``
    sources: Mapping[str, str]
    notes: tuple[str, ...]

    __slots__ = ("file", "version", "date", "sources", "notes")

    def __init__(self, file, version, date, sources, notes=()) -> None:
        set_field = object.__setattr__
        set_field(self, "file", file)
        set_field(self, "version", version)
        set_field(self, "date", date)
        set_field(self, "sources", sources)
        set_field(self, "notes", notes)


class CodeInfo(_Record):
    """One procedure code from ``codes.xml``."""

    code: str
    #: ``timed15`` | ``timed-other`` | ``untimed`` | ``ambiguous`` | ``measured`` (units count a
    #: measure that is not time, such as wound area: no 8-minute rule, no one-unit-per-session check)
    unit_class: str
    #: CMS therapy code list membership: ``always`` | ``sometimes`` | ``no``
    therapy_list: str
    #: discipline the code implies (``PT`` | ``OT`` | ``SLP``), or None when shared or not therapy
    discipline: str | None
    #: our own short label (never the CPT descriptor)
    label: str
    confidence: str
    therapy_confidence: str
    sources: tuple[str, ...]
    #: the code Medicare wants instead (97014 -> G0283)
    medicare_replacement: str | None
    #: primary code(s) an add-on code needs on the same date
    addon_to: tuple[str, ...]
    #: first date of service on which the code is no longer valid
    deleted: date | None
    replaced_by: tuple[str, ...]
    #: for ``timed-other`` codes, the time increment in words
    time_basis: str | None
    #: for ``measured`` codes, what one unit counts in words (97597: the first 20 sq cm)
    unit_basis: str | None
    notes: tuple[str, ...]
    #: every discipline that may furnish the code, in map order: ``("PT",)`` for a PT evaluation,
    #: ``("SLP", "OT")`` for a shared code (swallowing; then ``discipline`` is None), () when any may
    disciplines: tuple[str, ...]
    #: an evaluation or re-evaluation (97161-97172, 92521-92524, 92610): one per discipline and date
    evaluation: bool
    #: on the complexity-levelled evaluations 97161-97172: ``initial`` or ``re`` (re-evaluation);
    #: one of them per discipline and date (C412). None on every other code, SLP evaluations too.
    evaluation_kind: str | None
    #: the code for every unit after the first on a date (97129 -> 97130), or None
    further_units: str | None
    #: a reporting code, not a payable service: $0.00 is its usual charge (C411)
    reporting_only: bool

    __slots__ = (
        "code", "unit_class", "therapy_list", "discipline", "label", "confidence", "therapy_confidence", "sources",
        "medicare_replacement", "addon_to", "deleted", "replaced_by", "time_basis", "unit_basis", "notes",
        "disciplines", "evaluation", "evaluation_kind", "further_units", "reporting_only",
    )

    def __init__(
        self,
        code,
        unit_class,
        therapy_list,
        discipline,
        label,
        confidence,
        therapy_confidence,
        sources=(),
        medicare_replacement=None,
        addon_to=(),
        deleted=None,
        replaced_by=(),
        time_basis=None,
        unit_basis=None,
        notes=(),
        disciplines=(),
        evaluation=False,
        evaluation_kind=None,
        further_units=None,
        reporting_only=False,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "code", code)
        set_field(self, "unit_class", unit_class)
        set_field(self, "therapy_list", therapy_list)
        set_field(self, "discipline", discipline)
        set_field(self, "label", label)
        set_field(self, "confidence", confidence)
        set_field(self, "therapy_confidence", therapy_confidence)
        set_field(self, "sources", sources)
        set_field(self, "medicare_replacement", medicare_replacement)
        set_field(self, "addon_to", addon_to)
        set_field(self, "deleted", deleted)
        set_field(self, "replaced_by", replaced_by)
        set_field(self, "time_basis", time_basis)
        set_field(self, "unit_basis", unit_basis)
        set_field(self, "notes", notes)
        set_field(self, "disciplines", disciplines)
        set_field(self, "evaluation", evaluation)
        set_field(self, "evaluation_kind", evaluation_kind)
        set_field(self, "further_units", further_units)
        set_field(self, "reporting_only", reporting_only)

    @property
    def is_timed15(self) -> bool:
        return self.unit_class == "timed15"

    @property
    def always_therapy(self) -> bool:
        """True when every line needs GP, GO or GN (CMS "always therapy")."""
        return self.therapy_list == "always"

    def valid_on(self, dos: date) -> bool:
        return self.deleted is None or dos < self.deleted


class PtpEdit(_Record):
    """One NCCI procedure-to-procedure edit: ``column2`` is denied when billed with ``column1``.

    ``effective``/``deletion`` bound the dates of service the edit covers; ``deletion`` is exclusive
    (see the module docstring). ``modifier_indicator`` is ``"0"`` (no modifier bypasses it),
    ``"1"`` (an NCCI-associated modifier may) or ``"9"`` (not applicable: never fires).
    """

    column1: str
    column2: str
    effective: date
    deletion: date | None
    modifier_indicator: str
    rationale: str
    #: where the edit came from: ``ncci-ptp.xml`` or the CMS file/member name
    source: str
    #: the CMS file's "in existence prior to 1996" mark
    pre_1996: bool
    #: confidence that the edit exists with this indicator / in this column order / on these dates;
    #: "V" for rows read from an official CMS file
    confidence: str
    order_confidence: str
    date_confidence: str
    #: provenance source ids (map edits only)
    evidence: tuple[str, ...]
    notes: tuple[str, ...]

    __slots__ = (
        "column1", "column2", "effective", "deletion", "modifier_indicator", "rationale", "source", "pre_1996",
        "confidence", "order_confidence", "date_confidence", "evidence", "notes",
    )

    def __init__(
        self,
        column1,
        column2,
        effective,
        deletion,
        modifier_indicator,
        rationale,
        source,
        pre_1996=False,
        confidence="V",
        order_confidence="V",
        date_confidence="V",
        evidence=(),
        notes=(),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "column1", column1)
        set_field(self, "column2", column2)
        set_field(self, "effective", effective)
        set_field(self, "deletion", deletion)
        set_field(self, "modifier_indicator", modifier_indicator)
        set_field(self, "rationale", rationale)
        set_field(self, "source", source)
        set_field(self, "pre_1996", pre_1996)
        set_field(self, "confidence", confidence)
        set_field(self, "order_confidence", order_confidence)
        set_field(self, "date_confidence", date_confidence)
        set_field(self, "evidence", evidence)
        set_field(self, "notes", notes)

    def active_on(self, dos: date) -> bool:
        """Whether the edit is in force on ``dos``: effective <= dos < deletion."""
        return self.effective <= dos and (self.deletion is None or dos < self.deletion)

    def fires_on(self, dos: date) -> bool:
        """Active and applicable: indicator-9 edits never fire."""
        return self.modifier_indicator != "9" and self.active_on(dos)

    @property
    def modifier_allowed(self) -> bool:
        return self.modifier_indicator == "1"

    @property
    def pair(self) -> tuple[str, str]:
        """The two codes in sorted order: the key shared by both column orders."""
        return _pair_key(self.column1, self.column2)


class MueEdit(_Record):
    """A medically unlikely edit: at most ``value`` units of ``code`` per line (MAI 1) or per date
    of service (MAI 2 policy, MAI 3 clinical)."""

    code: str
    value: int
    adjudication_indicator: int
    rationale: str
    source: str

    __slots__ = ("code", "value", "adjudication_indicator", "rationale", "source")

    def __init__(self, code, value, adjudication_indicator, rationale, source="") -> None:
        set_field = object.__setattr__
        set_field(self, "code", code)
        set_field(self, "value", value)
        set_field(self, "adjudication_indicator", adjudication_indicator)
        set_field(self, "rationale", rationale)
        set_field(self, "source", source)


class ModifierInfo(_Record):
    """One modifier from ``modifiers.xml``."""

    code: str
    #: the class that order policies sort by (``pricing``, ``assistant``, ``ncci-distinct``, ...)
    modifier_class: str
    label: str
    ncci_associated: bool
    distinct_service: bool
    #: ``PT`` | ``OT`` | ``SLP`` for GP/GO/GN
    discipline: str | None
    #: the discipline modifier an assistant modifier must travel with (CQ -> GP, CO -> GO)
    requires: str | None
    confidence: str
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    #: first date of service on which the modifier is no longer valid (CH-CN from 2019)
    retired: date | None
    #: first date of service from which the modifier belongs on institutional claims only (GT from 2018; M215)
    institutional_only: date | None

    __slots__ = (
        "code", "modifier_class", "label", "ncci_associated", "distinct_service", "discipline", "requires",
        "confidence", "sources", "notes", "retired", "institutional_only",
    )

    def __init__(
        self,
        code,
        modifier_class,
        label,
        ncci_associated,
        distinct_service,
        discipline,
        requires,
        confidence,
        sources=(),
        notes=(),
        retired=None,
        institutional_only=None,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "code", code)
        set_field(self, "modifier_class", modifier_class)
        set_field(self, "label", label)
        set_field(self, "ncci_associated", ncci_associated)
        set_field(self, "distinct_service", distinct_service)
        set_field(self, "discipline", discipline)
        set_field(self, "requires", requires)
        set_field(self, "confidence", confidence)
        set_field(self, "sources", sources)
        set_field(self, "notes", notes)
        set_field(self, "retired", retired)
        set_field(self, "institutional_only", institutional_only)


class ModifierCombination(_Record):
    """Two modifiers that do not belong on one line: ``contradictory`` (M211) or ``doubtful`` (M212)."""

    first: str
    second: str
    verdict: str
    reason: str
    confidence: str
    sources: tuple[str, ...]

    __slots__ = ("first", "second", "verdict", "reason", "confidence", "sources")

    def __init__(self, first, second, verdict, reason, confidence, sources=()) -> None:
        set_field = object.__setattr__
        set_field(self, "first", first)
        set_field(self, "second", second)
        set_field(self, "verdict", verdict)
        set_field(self, "reason", reason)
        set_field(self, "confidence", confidence)
        set_field(self, "sources", sources)


class ModifierPolicy(_FrozenRecord):
    """Modifier classes, pairings and named order policies.

    Ordering is a stable sort by the position of each modifier's class in the policy. Modifiers of
    one class keep their relative order; a modifier that is unknown, or whose class the policy does
    not list, sorts after every listed class and keeps its relative order among such modifiers. So
    ``order(("GP", "59"), "conventional") == ("59", "GP")`` and an unknown ``"ZZ"`` always ends last.
    """

    modifiers: Mapping[str, ModifierInfo]
    #: class name -> description
    classes: Mapping[str, str]
    #: policy name -> ordered class names
    policies: Mapping[str, tuple[str, ...]]
    #: modifiers that may bypass an indicator-1 PTP edit (anatomic, global, 27, 59, 91, X{EPSU})
    ncci_associated: frozenset[str]
    #: the distinct-procedural-service set {59, XE, XS, XP, XU}
    distinct_service: frozenset[str]
    #: NUCC taxonomy prefix -> discipline, longest prefix first
    taxonomies: tuple[tuple[str, str], ...]
    #: the taxonomy prefixes of therapy assistants (PTA 2252, OTA 224Z, SLP assistant)
    assistant_taxonomies: frozenset[str]
    #: pairs of modifiers that do not belong on one line (M211, M212), in map order
    combinations: tuple[ModifierCombination, ...]

    __slots__ = (
        "modifiers", "classes", "policies", "ncci_associated", "distinct_service", "taxonomies",
        "assistant_taxonomies", "combinations",
    )

    def __init__(
        self,
        modifiers,
        classes,
        policies,
        ncci_associated,
        distinct_service,
        taxonomies=(),
        assistant_taxonomies=frozenset(),
        combinations=(),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "modifiers", modifiers)
        set_field(self, "classes", classes)
        set_field(self, "policies", policies)
        set_field(self, "ncci_associated", ncci_associated)
        set_field(self, "distinct_service", distinct_service)
        set_field(self, "taxonomies", taxonomies)
        set_field(self, "assistant_taxonomies", assistant_taxonomies)
        set_field(self, "combinations", combinations)

    def info(self, modifier: str) -> ModifierInfo | None:
        return self.modifiers.get(modifier.strip().upper())

    def class_of(self, modifier: str) -> str | None:
        info = self.info(modifier)
        return info.modifier_class if info else None

    def discipline_of(self, modifier: str) -> str | None:
        """``PT``/``OT``/``SLP`` for GP/GO/GN, else None."""
        info = self.info(modifier)
        return info.discipline if info else None

    def discipline_of_taxonomy(self, taxonomy: str) -> str | None:
        """``PT``/``OT``/``SLP`` for a therapist's NUCC taxonomy code, else None."""
        code = taxonomy.strip().upper()
        for prefix, discipline in self.taxonomies:
            if code.startswith(prefix):
                return discipline
        return None

    def is_assistant_taxonomy(self, taxonomy: str) -> bool:
        """Whether a NUCC taxonomy code is a therapy assistant's (PTA, OTA, SLP assistant)."""
        code = taxonomy.strip().upper()
        for prefix, _ in self.taxonomies:
            if code.startswith(prefix):
                return prefix in self.assistant_taxonomies
        return False

    def disciplines(self, modifiers: Iterable[str]) -> tuple[str, ...]:
        """The disciplines the given modifiers claim, in modifier order (duplicates kept)."""
        return tuple(d for d in (self.discipline_of(m) for m in modifiers) if d)

    def required_with(self, modifier: str) -> str | None:
        """The discipline modifier an assistant modifier needs: ``CQ`` -> ``GP``, ``CO`` -> ``GO``."""
        info = self.info(modifier)
        return info.requires if info else None

    def is_ncci_associated(self, modifier: str) -> bool:
        return modifier.strip().upper() in self.ncci_associated

    def is_distinct_service(self, modifier: str) -> bool:
        return modifier.strip().upper() in self.distinct_service

    def order(self, modifiers: Iterable[str], policy_name: str | None) -> tuple[str, ...]:
        """Return ``modifiers`` in the order ``policy_name`` prefers (strings returned unchanged).

        ``None`` or ``"none"`` means no preference: the input order is returned.

        Raises:
            KeyError: ``policy_name`` is not a policy in ``modifiers.xml``. Names that come from
                payers.xml or a config file are validated when those are loaded.
        """
        mods = tuple(modifiers)
        if policy_name is None or policy_name == NO_ORDER:
            return mods
        try:
            classes = self.policies[policy_name]
        except KeyError:
            raise KeyError(f"unknown modifier order policy {policy_name!r}") from None
        rank = {cls: i for i, cls in enumerate(classes)}
        last = len(classes)
        # sorted() is stable, so equal ranks keep their input order.
        return tuple(sorted(mods, key=lambda m: rank.get(self.class_of(m) or "", last)))


class AppealLevel(_Record):
    """One level of a payer's appeal sequence (``<appeal-level>`` in ``maps/payers.xml``)."""

    #: what the payer calls it: ``redetermination``, ``reconsideration``, ``first-level appeal``
    name: str
    #: days from the decision (the remittance date) to file it; None when unknown
    days: int | None
    #: the payer's form for it, when it has one (``CMS-20027``)
    form: str | None
    confidence: str

    __slots__ = ("name", "days", "form", "confidence")

    def __init__(self, name, days=None, form=None, confidence="M") -> None:
        set_field = object.__setattr__
        set_field(self, "name", name)
        set_field(self, "days", days)
        set_field(self, "form", form)
        set_field(self, "confidence", confidence)


#: how a payer wants a telehealth line shown on an 837P (``telehealth-marking`` in ``maps/payers.xml``,
#: rule M216): POS 02/10 with 95/93, the POS alone, the modifier with the in-person POS, or no check
TELEHEALTH_MARKINGS = ("pos-and-modifier", "pos", "modifier", "none")


class TherapyThreshold(_Record):
    """Medicare's annual outpatient therapy amounts for one calendar year (``<therapy-threshold>``
    in ``maps/payers.xml``, reference 4.2), in whole dollars of allowed charges per beneficiary.
    ``None``: the sources give no amount for that year."""

    year: int
    #: the KX threshold for physical therapy and speech-language pathology combined
    pt_slp: int | None
    #: the KX threshold for occupational therapy, counted separately
    ot: int | None
    #: the targeted medical review amount, the same for each of the two
    review: int | None
    confidence: str
    sources: tuple[str, ...]

    __slots__ = ("year", "pt_slp", "ot", "review", "confidence", "sources")

    def __init__(self, year, pt_slp, ot, review, confidence="M", sources=()) -> None:
        set_field = object.__setattr__
        set_field(self, "year", year)
        set_field(self, "pt_slp", pt_slp)
        set_field(self, "ot", ot)
        set_field(self, "review", review)
        set_field(self, "confidence", confidence)
        set_field(self, "sources", sources)


#: ``replacement``: a frequency-7 claim with REF*F8; ``new-claim``: a new original claim
#: (frequency 1); ``reopening``: no claim at all, a written reopening request (Medicare Part B).
CORRECTION_ROUTES = ("replacement", "new-claim", "reopening")


class PayerProfile(_Record):
    """How a payer changes the checks. Field meanings are documented in ``maps/payers.xml``."""

    name: str
    #: ``cms`` (total timed minutes) | ``per-code``
    unit_method: str
    #: distinct-service modifier to suggest: ``59`` | ``XE`` | ``XP`` | ``XS`` | ``XU``
    ncci_modifier: str
    #: order policy name, or None when the payer has no preference (the order rule stays silent)
    modifier_order: str | None
    wants_g0283: bool
    #: CLM05-3 for a corrected claim: ``7`` (replacement) or ``1`` (new claim)
    replacement_frequency: str
    #: what minutes are pooled over for the unit cap
    unit_grouping: tuple[str, ...]
    #: 2010BB NM1*PR NM109 values this profile matches (upper-case)
    payer_ids: tuple[str, ...]
    #: 2000B SBR09 claim filing indicator codes this profile matches
    filing_indicators: tuple[str, ...]
    confidence: str
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    #: ``payers.xml`` or the config file that defined or changed the profile
    origin: str
    #: the payer applies Medicare's annual therapy threshold: KX attests medical necessity
    #: above it, and a CARC 119 on a line without KX asks for KX (R501)
    therapy_threshold: bool
    #: how a correction reaches the payer: one of :data:`CORRECTION_ROUTES`
    correction_route: str
    #: days from the initial determination within which a correction may be asked for
    #: (Medicare's clerical-error reopening: 1 year); None when the profile names none
    correction_days: int | None
    #: the appeal levels in order (first level first); a profile without its own takes the
    #: ``default`` profile's
    appeal_levels: tuple[AppealLevel, ...]
    #: Medicare Part B coverage rules decide the claim: assistants do not enrol as rendering
    #: providers (M220), the Medicare telehealth list and the therapists' telehealth authority
    #: (M222), hospital outpatient and SNF places of service (M223, M224)
    medicare_coverage: bool
    #: how the payer wants a telehealth line shown: one of :data:`TELEHEALTH_MARKINGS` (M216)
    telehealth_marking: str

    __slots__ = (
        "name", "unit_method", "ncci_modifier", "modifier_order", "wants_g0283", "replacement_frequency",
        "unit_grouping", "payer_ids", "filing_indicators", "confidence", "sources", "notes", "origin",
        "therapy_threshold", "correction_route", "correction_days", "appeal_levels", "medicare_coverage",
        "telehealth_marking",
    )

    def __init__(
        self,
        name,
        unit_method="cms",
        ncci_modifier="59",
        modifier_order="conventional",
        wants_g0283=False,
        replacement_frequency="7",
        unit_grouping=("date", "discipline"),
        payer_ids=(),
        filing_indicators=(),
        confidence="M",
        sources=(),
        notes=(),
        origin="payers.xml",
        therapy_threshold=False,
        correction_route="replacement",
        correction_days=None,
        appeal_levels=(),
        medicare_coverage=False,
        telehealth_marking="pos-and-modifier",
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "name", name)
        set_field(self, "unit_method", unit_method)
        set_field(self, "ncci_modifier", ncci_modifier)
        set_field(self, "modifier_order", modifier_order)
        set_field(self, "wants_g0283", wants_g0283)
        set_field(self, "replacement_frequency", replacement_frequency)
        set_field(self, "unit_grouping", unit_grouping)
        set_field(self, "payer_ids", payer_ids)
        set_field(self, "filing_indicators", filing_indicators)
        set_field(self, "confidence", confidence)
        set_field(self, "sources", sources)
        set_field(self, "notes", notes)
        set_field(self, "origin", origin)
        set_field(self, "therapy_threshold", therapy_threshold)
        set_field(self, "correction_route", correction_route)
        set_field(self, "correction_days", correction_days)
        set_field(self, "appeal_levels", appeal_levels)
        set_field(self, "medicare_coverage", medicare_coverage)
        set_field(self, "telehealth_marking", telehealth_marking)


class AdjustmentGroup(_Record):
    """A CAS01 claim adjustment group code (CO, OA, PI, PR; CR only in 4010)."""

    code: str
    description: str
    valid_5010: bool
    confidence: str
    sources: tuple[str, ...]

    __slots__ = ("code", "description", "valid_5010", "confidence", "sources")

    def __init__(self, code, description, valid_5010, confidence, sources=()) -> None:
        set_field = object.__setattr__
        set_field(self, "code", code)
        set_field(self, "description", description)
        set_field(self, "valid_5010", valid_5010)
        set_field(self, "confidence", confidence)
        set_field(self, "sources", sources)


class Carc(_Record):
    """A claim adjustment reason code; ``description`` is our own paraphrase."""

    code: str
    category: str
    description: str
    therapy_note: str | None
    #: the reference's section 7 letters: U, N, G, D, A, $
    tags: tuple[str, ...]
    confidence: str
    sources: tuple[str, ...]

    __slots__ = ("code", "category", "description", "therapy_note", "tags", "confidence", "sources")

    def __init__(self, code, category, description, therapy_note, tags, confidence, sources=()) -> None:
        set_field = object.__setattr__
        set_field(self, "code", code)
        set_field(self, "category", category)
        set_field(self, "description", description)
        set_field(self, "therapy_note", therapy_note)
        set_field(self, "tags", tags)
        set_field(self, "confidence", confidence)
        set_field(self, "sources", sources)


class TelehealthListing(_Record):
    """A therapy code's place on the Medicare Telehealth Services List (``places.xml``)."""

    code: str
    listed: bool
    #: first and last dates of service it is listed for (None: open)
    start: date | None
    through: date | None
    confidence: str

    __slots__ = ("code", "listed", "start", "through", "confidence")

    def __init__(self, code, listed, start, through, confidence) -> None:
        set_field = object.__setattr__
        set_field(self, "code", code)
        set_field(self, "listed", listed)
        set_field(self, "start", start)
        set_field(self, "through", through)
        set_field(self, "confidence", confidence)

    def listed_on(self, dos: date) -> bool:
        return self.listed and (self.start is None or dos >= self.start) and (self.through is None or dos <= self.through)


class TelehealthAuthority(_Record):
    """A period of the therapists' Medicare telehealth authority (``places.xml``)."""

    start: date
    through: date
    #: ``in-force`` or ``lapsed-restored`` (lapsed, then restored retroactively by a later law)
    status: str
    label: str
    confidence: str

    __slots__ = ("start", "through", "status", "label", "confidence")

    def __init__(self, start, through, status, label, confidence) -> None:
        set_field = object.__setattr__
        set_field(self, "start", start)
        set_field(self, "through", through)
        set_field(self, "status", status)
        set_field(self, "label", label)
        set_field(self, "confidence", confidence)


class Places(_Record):
    """Places of service by setting, the Medicare telehealth list for therapy codes and the
    therapists' telehealth authority by date (``maps/places.xml``)."""

    #: place-of-service code -> setting (``telehealth``, ``hospital-outpatient``, ``skilled-nursing``,
    #: ``nursing-facility``)
    settings: Mapping[str, str]
    #: place-of-service code -> our label
    labels: Mapping[str, str]
    telehealth: Mapping[str, TelehealthListing]
    #: sorted by start date, not overlapping
    authority: tuple[TelehealthAuthority, ...]

    __slots__ = ("settings", "labels", "telehealth", "authority")
    _default_factories = MappingProxyType({"settings": dict, "labels": dict, "telehealth": dict})

    def __init__(self, settings=_FRESH, labels=_FRESH, telehealth=_FRESH, authority=()) -> None:
        set_field = object.__setattr__
        fresh = self._default_factories
        set_field(self, "settings", fresh["settings"]() if settings is _FRESH else settings)
        set_field(self, "labels", fresh["labels"]() if labels is _FRESH else labels)
        set_field(self, "telehealth", fresh["telehealth"]() if telehealth is _FRESH else telehealth)
        set_field(self, "authority", authority)

    def setting(self, pos: str) -> str | None:
        return self.settings.get(pos.strip())

    def authority_on(self, dos: date) -> TelehealthAuthority | None:
        """The authority period holding ``dos``, or None when therapists had none that day."""
        for period in self.authority:
            if period.start <= dos <= period.through:
                return period
        return None


class Rarc(_Record):
    """A remittance advice remark code; ``alert`` remarks are informational only."""

    code: str
    category: str
    description: str
    therapy_note: str | None
    tags: tuple[str, ...]
    confidence: str
    sources: tuple[str, ...]
    alert: bool

    __slots__ = ("code", "category", "description", "therapy_note", "tags", "confidence", "sources", "alert")

    def __init__(self, code, category, description, therapy_note, tags, confidence, sources=(), alert=False) -> None:
        set_field = object.__setattr__
        set_field(self, "code", code)
        set_field(self, "category", category)
        set_field(self, "description", description)
        set_field(self, "therapy_note", therapy_note)
        set_field(self, "tags", tags)
        set_field(self, "confidence", confidence)
        set_field(self, "sources", sources)
        set_field(self, "alert", alert)


class ParsedMap(_FrozenRecord):
    """One validated map file: its provenance and its typed content.

    ``content`` is ``Mapping[str, CodeInfo]`` (codes.xml), ``tuple[PtpEdit, ...]`` (ncci-ptp.xml),
    :class:`ModifierPolicy` (modifiers.xml), :class:`PayerMap` (payers.xml),
    ``tuple[Mapping[str, AdjustmentGroup], Mapping[str, Carc]]`` (carc.xml),
    ``Mapping[str, Rarc]`` (rarc.xml), :class:`Places` (places.xml) or ``Mapping[str, str]``,
    file name to version (release.xml). ``lines`` maps entry keys to source lines so that checks
    across files can still point at a line.
    """

    name: str
    provenance: Provenance
    content: object
    lines: Mapping[str, int]

    __slots__ = ("name", "provenance", "content", "lines")
    _default_factories = MappingProxyType({"lines": dict})

    def __init__(self, name, provenance, content, lines=_FRESH) -> None:
        set_field = object.__setattr__
        fresh = self._default_factories
        set_field(self, "name", name)
        set_field(self, "provenance", provenance)
        set_field(self, "content", content)
        set_field(self, "lines", fresh["lines"]() if lines is _FRESH else lines)


# --------------------------------------------------------------------------------------------
# The bundle
# --------------------------------------------------------------------------------------------


def normalize_code(code: str) -> str:
    """Strip and upper-case a procedure code or modifier the way the maps store them."""
    return code.strip().upper()


def _pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def match_profile(
    profiles: Sequence[PayerProfile], payer_id: str | None, filing_indicator: str | None
) -> PayerProfile:
    """Pick the profile for a claim.

    A profile listing the payer id (NM109) wins over one listing the filing indicator (SBR09);
    within one level the first in ``profiles`` wins; otherwise the profile named ``default``.

    Raises:
        LookupError: no profile matched and there is no ``default`` (load_maps guarantees one).
    """
    pid = payer_id.strip().upper() if payer_id else ""
    fil = filing_indicator.strip().upper() if filing_indicator else ""
    if pid:
        for profile in profiles:
            if pid in profile.payer_ids:
                return profile
    if fil:
        for profile in profiles:
            if fil in profile.filing_indicators:
                return profile
    for profile in profiles:
        if profile.name == "default":
            return profile
    raise LookupError("no payer profile matched and no 'default' profile exists")


class Maps(_FrozenRecord):
    """All map data with fast lookups. Build it with :func:`load_maps` or :func:`build_maps`."""

    codes: Mapping[str, CodeInfo]
    ptp_edits: tuple[PtpEdit, ...]
    modifiers: ModifierPolicy
    #: in match order (see :func:`match_profile`)
    profiles: tuple[PayerProfile, ...]
    groups: Mapping[str, AdjustmentGroup]
    carcs: Mapping[str, Carc]
    rarcs: Mapping[str, Rarc]
    mue_edits: Mapping[str, MueEdit]
    provenance: Mapping[str, Provenance]
    _ptp_by_pair: Mapping[tuple[str, str], tuple[PtpEdit, ...]]
    _ptp_by_code: Mapping[str, tuple[PtpEdit, ...]]
    #: every date on which some PTP edit starts or stops, sorted (see :meth:`ptp_period`)
    _ptp_change_dates: tuple[date, ...]
    #: whether edits from an official CMS PTP file are merged in (:meth:`with_cms`). Without
    #: one, the PTP data is ``ncci-ptp.xml`` alone, which pairs therapy codes with each other only.
    official_ptp: bool
    #: places of service and the Medicare telehealth list (``places.xml``)
    places: Places
    #: calendar year -> Medicare's therapy threshold amounts (``payers.xml``)
    therapy_thresholds: Mapping[int, TherapyThreshold]
    #: the lowest threshold (PT+SLP or OT) and the lowest review amount of any year, in dollars
    #: (None: there are none): a claim whose charges add up to no more than one cannot pass it
    #: in any year (the claim screen's shortcut for C413 and C414)
    lowest_therapy_threshold: int | None
    lowest_review_amount: int | None

    __slots__ = (
        "codes", "ptp_edits", "modifiers", "profiles", "groups", "carcs", "rarcs", "mue_edits", "provenance",
        "_ptp_by_pair", "_ptp_by_code", "_ptp_change_dates", "official_ptp", "places", "therapy_thresholds",
        "lowest_therapy_threshold", "lowest_review_amount",
    )
    _default_factories = MappingProxyType({"places": Places, "therapy_thresholds": lambda: MappingProxyType({})})

    def __init__(
        self,
        codes,
        ptp_edits,
        modifiers,
        profiles,
        groups,
        carcs,
        rarcs,
        mue_edits,
        provenance,
        _ptp_by_pair,
        _ptp_by_code,
        _ptp_change_dates=(),
        official_ptp=False,
        places=_FRESH,
        therapy_thresholds=_FRESH,
        lowest_therapy_threshold=None,
        lowest_review_amount=None,
    ) -> None:
        set_field = object.__setattr__
        fresh = self._default_factories
        set_field(self, "codes", codes)
        set_field(self, "ptp_edits", ptp_edits)
        set_field(self, "modifiers", modifiers)
        set_field(self, "profiles", profiles)
        set_field(self, "groups", groups)
        set_field(self, "carcs", carcs)
        set_field(self, "rarcs", rarcs)
        set_field(self, "mue_edits", mue_edits)
        set_field(self, "provenance", provenance)
        set_field(self, "_ptp_by_pair", _ptp_by_pair)
        set_field(self, "_ptp_by_code", _ptp_by_code)
        set_field(self, "_ptp_change_dates", _ptp_change_dates)
        set_field(self, "official_ptp", official_ptp)
        set_field(self, "places", fresh["places"]() if places is _FRESH else places)
        set_field(self, "therapy_thresholds", fresh["therapy_thresholds"]() if therapy_thresholds is _FRESH else therapy_thresholds)
        set_field(self, "lowest_therapy_threshold", lowest_therapy_threshold)
        set_field(self, "lowest_review_amount", lowest_review_amount)

    @property
    def release(self) -> Provenance:
        """The maps' release (``release.xml``): the version and date reports name."""
        return self.provenance["release.xml"]

    # -- codes -----------------------------------------------------------------------------
    def code(self, code: str) -> CodeInfo | None:
        return self.codes.get(normalize_code(code))

    def codes_in_class(self, unit_class: str) -> frozenset[str]:
        return frozenset(c for c, info in self.codes.items() if info.unit_class == unit_class)

    @property
    def all_codes(self) -> frozenset[str]:
        """Every code in codes.xml: the ``keep_codes`` filter for the CMS PTP and MUE files."""
        return frozenset(self.codes)

    # -- NCCI ------------------------------------------------------------------------------
    def ptp_pairs_between(
        self, code_a: str, code_b: str, dos: date | None = None, *, include_inapplicable: bool = False
    ) -> list[PtpEdit]:
        """Edits between two codes, in either column order, sorted by effective date.

        With ``dos``: only edits active on that date, and indicator-9 edits only when
        ``include_inapplicable``. Without ``dos``: the whole history for the pair.
        """
        edits = self._ptp_by_pair.get(_pair_key(normalize_code(code_a), normalize_code(code_b)), ())
        return _filter_ptp(edits, dos, include_inapplicable)

    def ptp_edits_for(
        self, code: str, dos: date | None = None, *, include_inapplicable: bool = False
    ) -> list[PtpEdit]:
        """Edits in which ``code`` is column 1 or column 2 (same date filtering as above)."""
        return _filter_ptp(self._ptp_by_code.get(normalize_code(code), ()), dos, include_inapplicable)

    def ptp_period(self, dos: date) -> int:
        """Which stretch between PTP edit changes ``dos`` falls in: two dates with the same
        period have exactly the same active edits (an edit starts or stops only at a
        change date), so results that depend on the edits may be shared between them."""
        return bisect_right(self._ptp_change_dates, dos)

    def mue(self, code: str) -> MueEdit | None:
        return self.mue_edits.get(normalize_code(code))

    # -- payers ----------------------------------------------------------------------------
    def profile(self, name: str) -> PayerProfile | None:
        for p in self.profiles:
            if p.name == name:
                return p
        return None

    def therapy_threshold(self, year: int) -> TherapyThreshold | None:
        """Medicare's therapy threshold amounts for a calendar year, or None when the map has none."""
        return self.therapy_thresholds.get(year)

    def profile_for(self, payer_id: str | None, filing_indicator: str | None) -> PayerProfile:
        """The map profile for a claim; :func:`edi_rehab.config.resolve_profile` adds config."""
        return match_profile(self.profiles, payer_id, filing_indicator)

    # -- remittance codes ------------------------------------------------------------------
    def group(self, code: str) -> AdjustmentGroup | None:
        return self.groups.get(normalize_code(code))

    def carc(self, code: str) -> Carc | None:
        return self.carcs.get(normalize_code(code))

    def rarc(self, code: str) -> Rarc | None:
        return self.rarcs.get(normalize_code(code))

    # -- merging the official CMS files ----------------------------------------------------
    def with_cms(
        self,
        extra_ptp: Iterable[PtpEdit] = (),
        mue: Mapping[str, MueEdit] | None = None,
        *,
        ptp_authoritative: bool = False,
    ) -> Maps:
        """A copy with CMS PTP edits and MUEs merged in.

        For every code pair the CMS edits mention (either column order), the map's own edits for
        that pair are dropped: the official file wins where it speaks. Map pairs it does not
        mention are kept, unless ``ptp_authoritative`` says the file is complete for these codes,
        in which case only its edits remain. MUEs given here replace any earlier value per code.
        """
        extra = tuple(extra_ptp)
        if ptp_authoritative:
            kept: tuple[PtpEdit, ...] = ()
        else:
            covered = {e.pair for e in extra}
            kept = tuple(e for e in self.ptp_edits if e.pair not in covered)
        merged_mue = dict(self.mue_edits)
        if mue:
            merged_mue.update({normalize_code(k): v for k, v in mue.items()})
        return _assemble(
            codes=self.codes,
            ptp_edits=kept + extra,
            modifiers=self.modifiers,
            profiles=self.profiles,
            groups=self.groups,
            carcs=self.carcs,
            rarcs=self.rarcs,
            mue_edits=merged_mue,
            provenance=self.provenance,
            places=self.places,
            therapy_thresholds=self.therapy_thresholds,
        )


def _filter_ptp(edits: Iterable[PtpEdit], dos: date | None, include_inapplicable: bool) -> list[PtpEdit]:
    if dos is None:
        return list(edits)
    if include_inapplicable:
        return [e for e in edits if e.active_on(dos)]
    return [e for e in edits if e.fires_on(dos)]


def _assemble(
    *,
    codes: Mapping[str, CodeInfo],
    ptp_edits: tuple[PtpEdit, ...],
    modifiers: ModifierPolicy,
    profiles: tuple[PayerProfile, ...],
    groups: Mapping[str, AdjustmentGroup],
    carcs: Mapping[str, Carc],
    rarcs: Mapping[str, Rarc],
    mue_edits: Mapping[str, MueEdit],
    provenance: Mapping[str, Provenance],
    places: Places | None = None,
    therapy_thresholds: Mapping[int, TherapyThreshold] | None = None,
) -> Maps:
    by_pair: dict[tuple[str, str], list[PtpEdit]] = {}
    by_code: dict[str, list[PtpEdit]] = {}
    for edit in ptp_edits:
        by_pair.setdefault(edit.pair, []).append(edit)
        by_code.setdefault(edit.column1, []).append(edit)
        if edit.column2 != edit.column1:
            by_code.setdefault(edit.column2, []).append(edit)

    def sort(groups_: dict) -> Mapping:
        return MappingProxyType(
            {k: tuple(sorted(v, key=lambda e: (e.effective, e.column1, e.column2))) for k, v in groups_.items()}
        )

    return Maps(
        codes=MappingProxyType(dict(codes)),
        ptp_edits=tuple(ptp_edits),
        modifiers=modifiers,
        profiles=tuple(profiles),
        groups=MappingProxyType(dict(groups)),
        carcs=MappingProxyType(dict(carcs)),
        rarcs=MappingProxyType(dict(rarcs)),
        mue_edits=MappingProxyType(dict(mue_edits)),
        provenance=MappingProxyType(dict(provenance)),
        _ptp_by_pair=sort(by_pair),
        _ptp_by_code=sort(by_code),
        _ptp_change_dates=tuple(sorted({d for e in ptp_edits for d in (e.effective, e.deletion) if d is not None})),
        official_ptp=any(edit.source != "ncci-ptp.xml" for edit in ptp_edits),
        places=places if places is not None else Places(),
        therapy_thresholds=MappingProxyType(dict(therapy_thresholds or {})),
        lowest_therapy_threshold=min(
            (a for t in (therapy_thresholds or {}).values() for a in (t.pt_slp, t.ot) if a is not None), default=None
        ),
        lowest_review_amount=min(
            (t.review for t in (therapy_thresholds or {}).values() if t.review is not None), default=None
        ),
    )


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _package_dir() -> str | Traversable:
    # An installed package is a plain folder: read it with os.path, because importing
    # importlib.resources (and tempfile and zipfile with it), or pathlib, is a fixed cost of
    # every hook run. A zipped package goes through importlib.resources.
    from . import maps

    folder = os.path.dirname(maps.__file__)
    if os.path.isfile(os.path.join(folder, "codes.xml")):
        return folder
    from importlib import resources

    return resources.files("edi_rehab.maps")


def _file_bytes(directory: str | Traversable, *parts: str) -> bytes | None:
    """The bytes of the file at ``parts`` below ``directory`` (a folder's path or a
    Traversable); ``None`` when it is not a file."""
    if isinstance(directory, str):
        path = os.path.join(directory, *parts)
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as handle:
            return handle.read()
    entry = directory.joinpath(*parts)
    return entry.read_bytes() if entry.is_file() else None


def _hardened_parser() -> etree.XMLParser:
    from lxml import etree

    # Map files are data a user may replace: refuse everything that lets XML reach outside itself
    # or blow up in memory (external entities, DTD loading, network, huge trees).
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _parse_xml(name: str, data: bytes) -> etree._Element:
    from lxml import etree

    try:
        root = etree.fromstring(data, _hardened_parser(), base_url=name)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise MapError(name, line, f"not well-formed XML: {exc.msg}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype:
        # No map needs a DTD; an internal subset is the usual carrier of entity tricks.
        at = data.find(b"<!DOCTYPE")
        line = data[:at].count(b"\n") + 1 if at >= 0 else 1
        raise MapError(name, line, "DOCTYPE declarations are not allowed in map files")
    return root


@functools.lru_cache(maxsize=None)
def _schema(stem: str) -> etree.XMLSchema:
    # Always the package's own schemas, even for maps loaded from another directory: the Python
    # builders below rely on exactly these constraints.
    from lxml import etree

    data = _file_bytes(_package_dir(), "schema", f"{stem}.xsd")
    if data is None:
        raise MapError(f"{stem}.xsd", None, "schema missing from the package")
    return etree.XMLSchema(etree.fromstring(data, _hardened_parser()))


def _validate(name: str, stem: str, root: etree._Element) -> None:
    schema = _schema(stem)
    if schema.validate(root):
        return
    errors = list(schema.error_log)
    first = errors[0]
    more = f" (and {len(errors) - 1} more schema errors)" if len(errors) > 1 else ""
    raise MapError(name, first.line or None, f"schema violation: {first.message}{more}")


def _text(el: etree._Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return " ".join(el.text.split())


def _texts(parent: etree._Element, tag: str) -> tuple[str, ...]:
    return tuple(t for t in (_text(c) for c in parent.iterchildren(tag)) if t)


def _ids(value: str | None) -> tuple[str, ...]:
    return tuple(value.split()) if value else ()


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip() in ("true", "1")


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value.strip()) if value else None


def _provenance(name: str, root: etree._Element) -> Provenance:
    prov = root.find("provenance")
    assert prov is not None  # the schema requires it
    sources = {s.get("id"): _text(s) or "" for s in prov.iterchildren("source")}
    return Provenance(
        file=name,
        version=prov.get("version"),
        date=date.fromisoformat(prov.get("date")),
        sources=MappingProxyType(sources),
        notes=_texts(prov, "note"),
    )


def _check_source_refs(name: str, root: etree._Element, provenance: Provenance) -> None:
    # The schemas type @source as xs:IDREFS, but libxml2 does not check IDREFS during XSD
    # validation, so a typo in a source id would pass silently without this.
    for el in root.iter():
        refs = el.get("source")
        if refs is None or el.tag == "provenance":
            continue
        unknown = [r for r in refs.split() if r not in provenance.sources]
        if unknown:
            raise MapError(
                name,
                el.sourceline,
                f"source id(s) {', '.join(unknown)} not listed in <provenance> (known: {', '.join(provenance.sources)})",
            )


def _parse_codes(name: str, root: etree._Element) -> tuple[object, dict[str, int]]:
    codes: dict[str, CodeInfo] = {}
    lines: dict[str, int] = {}
    for el in root.iterchildren("code"):
        code = el.get("value")
        unit_class = el.get("class")
        time_basis = _text(el.find("time-basis"))
        if unit_class == "timed-other" and not time_basis:
            # Without the increment a units check cannot do anything useful with the code.
            raise MapError(name, el.sourceline, f"{code}: timed-other codes need a <time-basis>")
        unit_basis = _text(el.find("unit-basis"))
        if unit_class == "measured" and not unit_basis:
            # A measured unit is not time: without saying what it counts, its units cannot be read.
            raise MapError(name, el.sourceline, f"{code}: measured codes need a <unit-basis>")
        disciplines = _ids(el.get("discipline"))
        if len(set(disciplines)) != len(disciplines):
            raise MapError(name, el.sourceline, f"{code}: discipline {el.get('discipline')!r} repeats a discipline")
        evaluation = _bool(el.get("evaluation"))
        if el.get("evaluation-kind") and not evaluation:
            raise MapError(name, el.sourceline, f"{code}: evaluation-kind needs evaluation=\"true\"")
        codes[code] = CodeInfo(
            code=code,
            unit_class=unit_class,
            therapy_list=el.get("therapy"),
            # the code implies a discipline only when one discipline alone furnishes it
            discipline=disciplines[0] if len(disciplines) == 1 else None,
            disciplines=disciplines,
            evaluation=evaluation,
            evaluation_kind=el.get("evaluation-kind"),
            further_units=el.get("further-units"),
            reporting_only=_bool(el.get("reporting-only")),
            label=_text(el.find("label")) or "",
            confidence=el.get("confidence"),
            therapy_confidence=el.get("therapy-confidence"),
            sources=_ids(el.get("source")),
            medicare_replacement=el.get("medicare-replacement"),
            addon_to=_ids(el.get("addon-to")),
            deleted=_date(el.get("deleted")),
            replaced_by=_ids(el.get("replaced-by")),
            time_basis=time_basis,
            unit_basis=unit_basis,
            notes=_texts(el, "note"),
        )
        lines[code] = el.sourceline
    for info in codes.values():
        for ref in (*info.addon_to, *info.replaced_by, *filter(None, [info.medicare_replacement])):
            if ref not in codes:
                raise MapError(name, lines[info.code], f"{info.code} refers to {ref}, which is not in {name}")
    return MappingProxyType(codes), lines


def _parse_ptp(name: str, root: etree._Element) -> tuple[object, dict[str, int]]:
    edits: list[PtpEdit] = []
    for el in root.iterchildren("edit"):
        effective = _date(el.get("effective"))
        deletion = _date(el.get("deletion"))
        assert effective is not None
        if deletion is not None and deletion < effective:
            raise MapError(
                name, el.sourceline, f"{el.get('column1')}/{el.get('column2')}: deletion {deletion} before effective {effective}"
            )
        if el.get("column1") == el.get("column2"):
            raise MapError(name, el.sourceline, f"{el.get('column1')}: an edit needs two different codes")
        edits.append(
            PtpEdit(
                column1=el.get("column1"),
                column2=el.get("column2"),
                effective=effective,
                deletion=deletion,
                modifier_indicator=el.get("modifier-indicator"),
                rationale=_text(el.find("rationale")) or "",
                source=name,
                pre_1996=_bool(el.get("pre-1996")),
                confidence=el.get("confidence"),
                order_confidence=el.get("order-confidence"),
                date_confidence=el.get("date-confidence"),
                evidence=_ids(el.get("source")),
                notes=_texts(el, "note"),
            )
        )
    return tuple(edits), {}


def _parse_modifiers(name: str, root: etree._Element) -> tuple[object, dict[str, int]]:
    classes = {el.get("name"): _text(el) or "" for el in root.iterchildren("class")}
    mods: dict[str, ModifierInfo] = {}
    for el in root.iterchildren("modifier"):
        code, cls, disc = el.get("code"), el.get("class"), el.get("discipline")
        if (cls == "discipline") != (disc is not None):
            raise MapError(name, el.sourceline, f"{code}: a discipline attribute goes on, and only on, class 'discipline'")
        distinct = _bool(el.get("distinct-service"))
        ncci = _bool(el.get("ncci-associated"))
        if distinct and not ncci:
            raise MapError(name, el.sourceline, f"{code}: a distinct-service modifier must also be ncci-associated")
        mods[code] = ModifierInfo(
            code=code,
            modifier_class=cls,
            label=_text(el.find("label")) or "",
            ncci_associated=ncci,
            distinct_service=distinct,
            discipline=disc,
            requires=el.get("requires"),
            confidence=el.get("confidence"),
            sources=_ids(el.get("source")),
            notes=_texts(el, "note"),
            retired=_date(el.get("retired")),
            institutional_only=_date(el.get("institutional-only")),
        )
    lines: dict[str, int] = {}
    for el in root.iterchildren("modifier"):
        req = el.get("requires")
        if req and mods[req].modifier_class != "discipline":
            raise MapError(name, el.sourceline, f"{el.get('code')}: requires {req}, which is not a discipline modifier")
    policies: dict[str, tuple[str, ...]] = {}
    for el in root.iterchildren("policy"):
        order = tuple(el.get("order").split())
        unknown = [c for c in order if c not in classes]
        if unknown:
            raise MapError(name, el.sourceline, f"policy {el.get('name')!r} names unknown classes: {', '.join(unknown)}")
        if len(set(order)) != len(order):
            raise MapError(name, el.sourceline, f"policy {el.get('name')!r} lists a class twice")
        if el.get("name") == NO_ORDER:
            raise MapError(name, el.sourceline, f"{NO_ORDER!r} is reserved for 'no order preference'")
        policies[el.get("name")] = order
        lines[el.get("name")] = el.sourceline
    taxonomies = sorted(
        ((el.get("prefix"), el.get("discipline")) for el in root.iterchildren("taxonomy")),
        key=lambda pair: -len(pair[0]),
    )
    policy = ModifierPolicy(
        modifiers=MappingProxyType(mods),
        classes=MappingProxyType(classes),
        policies=MappingProxyType(policies),
        ncci_associated=frozenset(c for c, m in mods.items() if m.ncci_associated),
        distinct_service=frozenset(c for c, m in mods.items() if m.distinct_service),
        taxonomies=tuple(taxonomies),
        assistant_taxonomies=frozenset(
            el.get("prefix") for el in root.iterchildren("taxonomy") if _bool(el.get("assistant"))
        ),
        combinations=tuple(
            ModifierCombination(
                first=el.get("first"),
                second=el.get("second"),
                verdict=el.get("verdict"),
                reason=_text(el) or "",
                confidence=el.get("confidence"),
                sources=_ids(el.get("source")),
            )
            for el in root.iterchildren("combination")
        ),
    )
    return policy, lines


def _parse_payers(name: str, root: etree._Element) -> tuple[object, dict[str, int]]:
    profiles: list[PayerProfile] = []
    lines: dict[str, int] = {}
    for el in root.iterchildren("profile"):
        match = el.find("match")
        order = el.get("modifier-order")
        grouping = tuple(el.get("unit-grouping", "date discipline").split())
        if "date" not in grouping:
            # Both unit methods count minutes per calendar day (Pub. 100-04 Ch. 5 20.2).
            raise MapError(name, el.sourceline, f"profile {el.get('name')!r}: unit-grouping must include 'date'")
        profiles.append(
            PayerProfile(
                name=el.get("name"),
                unit_method=el.get("unit-method"),
                ncci_modifier=el.get("ncci-modifier"),
                modifier_order=None if order == NO_ORDER else order,
                wants_g0283=_bool(el.get("wants-g0283")),
                replacement_frequency=el.get("replacement-frequency", "7"),
                unit_grouping=grouping,
                payer_ids=tuple(p.upper() for p in _texts(match, "payer-id")),
                filing_indicators=_texts(match, "filing-indicator"),
                confidence=el.get("confidence"),
                sources=_ids(el.get("source")),
                notes=_texts(el, "note"),
                origin=name,
                therapy_threshold=_bool(el.get("therapy-threshold")),
                correction_route=el.get("correction-route", "replacement"),
                correction_days=int(el.get("correction-days")) if el.get("correction-days") else None,
                medicare_coverage=_bool(el.get("medicare-coverage")),
                telehealth_marking=el.get("telehealth-marking", "pos-and-modifier"),
                appeal_levels=tuple(
                    AppealLevel(
                        level.get("name"),
                        int(level.get("days")) if level.get("days") else None,
                        level.get("form"),
                        level.get("confidence", "M"),
                    )
                    for level in el.iterchildren("appeal-level")
                ),
            )
        )
        lines[el.get("name")] = el.sourceline
    default = next((p for p in profiles if p.name == "default"), None)
    if default is None:
        raise MapError(name, root.sourceline, "a profile named 'default' is required")
    # a profile without appeal levels of its own follows the default profile's
    profiles = [p if p.appeal_levels else dataclasses.replace(p, appeal_levels=default.appeal_levels) for p in profiles]
    return PayerMap(tuple(profiles), _parse_thresholds(root)), lines


class PayerMap(_Record):
    """What ``payers.xml`` holds: the profiles in match order and the therapy thresholds by year."""

    profiles: tuple[PayerProfile, ...]
    therapy_thresholds: Mapping[int, TherapyThreshold]

    __slots__ = ("profiles", "therapy_thresholds")

    def __init__(self, profiles, therapy_thresholds) -> None:
        set_field = object.__setattr__
        set_field(self, "profiles", profiles)
        set_field(self, "therapy_thresholds", therapy_thresholds)


def _parse_thresholds(root: etree._Element) -> Mapping[int, TherapyThreshold]:
    def dollars(value: str | None) -> int | None:
        return int(value) if value else None

    return MappingProxyType(
        {
            int(el.get("year")): TherapyThreshold(
                year=int(el.get("year")),
                pt_slp=dollars(el.get("pt-slp")),
                ot=dollars(el.get("ot")),
                review=dollars(el.get("review")),
                confidence=el.get("confidence"),
                sources=_ids(el.get("source")),
            )
            for el in root.iterchildren("therapy-threshold")
        }
    )


def _reason_fields(el: etree._Element) -> dict:
    return dict(
        code=el.get("code"),
        category=el.get("category"),
        description=_text(el.find("description")) or "",
        therapy_note=_text(el.find("therapy")),
        tags=_ids(el.get("tags")),
        confidence=el.get("confidence"),
        sources=_ids(el.get("source")),
    )


def _parse_carc(name: str, root: etree._Element) -> tuple[object, dict[str, int]]:
    groups = {
        el.get("code"): AdjustmentGroup(
            code=el.get("code"),
            description=_text(el.find("description")) or "",
            valid_5010=_bool(el.get("valid-5010"), default=True),
            confidence=el.get("confidence"),
            sources=_ids(el.get("source")),
        )
        for el in root.iterchildren("group")
    }
    missing = {"CO", "OA", "PI", "PR"} - groups.keys()
    if missing:
        raise MapError(name, root.sourceline, f"group codes missing: {', '.join(sorted(missing))}")
    carcs = {el.get("code"): Carc(**_reason_fields(el)) for el in root.iterchildren("carc")}
    return (MappingProxyType(groups), MappingProxyType(carcs)), {}


def _parse_rarc(name: str, root: etree._Element) -> tuple[object, dict[str, int]]:
    rarcs = {
        el.get("code"): Rarc(**_reason_fields(el), alert=_bool(el.get("alert")))
        for el in root.iterchildren("rarc")
    }
    return MappingProxyType(rarcs), {}


def _parse_places(name: str, root: etree._Element) -> tuple[object, dict[str, int]]:
    lines: dict[str, int] = {}
    settings: dict[str, str] = {}
    labels: dict[str, str] = {}
    for el in root.iterchildren("place"):
        settings[el.get("code")] = el.get("setting")
        labels[el.get("code")] = _text(el) or ""
        lines[el.get("code")] = el.sourceline
    periods: list[tuple[TelehealthAuthority, int]] = []
    for el in root.iterchildren("authority"):
        period = TelehealthAuthority(
            start=_date(el.get("from")),
            through=_date(el.get("through")),
            status=el.get("status"),
            label=_text(el) or "",
            confidence=el.get("confidence"),
        )
        periods.append((period, el.sourceline))
    periods.sort(key=lambda pair: pair[0].start)
    for period, line in periods:
        if period.through < period.start:
            raise MapError(name, line, f"authority period {period.start} ends before it starts")
    for (period, line), (following, _) in zip(periods, periods[1:]):
        if following.start <= period.through:
            raise MapError(name, line, f"authority periods {period.start} and {following.start} overlap")
    telehealth: dict[str, TelehealthListing] = {}
    for el in root.iterchildren("telehealth"):
        listed = _bool(el.get("listed"))
        start, through = _date(el.get("from")), _date(el.get("through"))
        if not listed and (start or through):
            raise MapError(name, el.sourceline, f"{el.get('code')}: a code never listed has no dates")
        telehealth[el.get("code")] = TelehealthListing(el.get("code"), listed, start, through, el.get("confidence"))
        lines[el.get("code")] = el.sourceline
    places = Places(
        settings=MappingProxyType(settings),
        labels=MappingProxyType(labels),
        telehealth=MappingProxyType(telehealth),
        authority=tuple(period for period, _ in periods),
    )
    return places, lines
def _parse_release(name: str, root: etree._Element) -> tuple[object, dict[str, int]]:
    """The file versions a release is made of: map file name -> version."""
    files = {el.get("name"): el.get("version") for el in root.iterchildren("file")}
    lines = {el.get("name"): el.sourceline for el in root.iterchildren("file")}
    return MappingProxyType(files), lines


def _check_release(release: ParsedMap, parsed: Mapping[str, ParsedMap]) -> None:
    """A release names every map file at the version the file itself carries, so the release
    version a report shows always stands for the content that was loaded."""
    listed: Mapping[str, str] = release.content  # type: ignore[assignment]
    for name, item in parsed.items():
        if item is release:
            continue
        if name not in listed:
            raise MapError(release.name, None, f"{name} is not listed; add <file name=\"{name}\" version=\"{item.provenance.version}\"/>")
        if listed[name] != item.provenance.version:
            raise MapError(
                release.name,
                release.lines.get(name),
                f"{name} is listed at version {listed[name]} but the file's provenance says {item.provenance.version}; "
                "cut a new release (version and date) that lists it",
            )
        if item.provenance.date > release.provenance.date:
            raise MapError(
                release.name,
                release.lines.get(name),
                f"{name} is dated {item.provenance.date}, after the release's date {release.provenance.date}",
            )


_BUILDERS = {
    "codes": _parse_codes,
    "ncci-ptp": _parse_ptp,
    "modifiers": _parse_modifiers,
    "payers": _parse_payers,
    "carc": _parse_carc,
    "rarc": _parse_rarc,
    "places": _parse_places,
    "release": _parse_release,
}


def parse_map(name: str, data: bytes) -> ParsedMap:
    """Parse and validate one map file from bytes.

    Args:
        name: the map's file name (``codes.xml`` ...); a path is accepted and its last part used to
            pick the schema, while error messages show ``name`` as given.
        data: the file's bytes.

    Raises:
        MapError: unknown map name, malformed XML, a schema violation, or a broken reference.
    """
    stem = os.path.splitext(os.path.basename(name.replace("\\", "/")))[0]
    if stem not in _BUILDERS:
        raise MapError(name, None, f"unknown map file; expected one of {', '.join(MAP_FILES)}")
    root = _parse_xml(name, data)
    _validate(name, stem, root)
    provenance = _provenance(name, root)
    _check_source_refs(name, root, provenance)
    content, lines = _BUILDERS[stem](name, root)
    return ParsedMap(name=name, provenance=provenance, content=content, lines=MappingProxyType(lines))


def build_maps(
    files: Mapping[str, bytes],
    *,
    extra_ptp: Iterable[PtpEdit] = (),
    mue: Mapping[str, MueEdit] | None = None,
    ptp_authoritative: bool = False,
) -> Maps:
    """Build :class:`Maps` from the bytes of every map file (keys are the names in MAP_FILES).

    Raises:
        MapError: a file is missing or broken, or files contradict each other (a payer profile
            naming an order policy that modifiers.xml does not define).
    """
    missing = [n for n in MAP_FILES if n not in files]
    if missing:
        raise MapError(missing[0], None, "map file missing")
    parsed = {n: parse_map(n, files[n]) for n in MAP_FILES}
    _check_release(parsed["release.xml"], parsed)
    modifiers: ModifierPolicy = parsed["modifiers.xml"].content  # type: ignore[assignment]
    payers = parsed["payers.xml"]
    payer_map: PayerMap = payers.content  # type: ignore[assignment]
    for profile in payer_map.profiles:
        if profile.modifier_order is not None and profile.modifier_order not in modifiers.policies:
            raise MapError(
                "payers.xml",
                payers.lines.get(profile.name),
                f"profile {profile.name!r}: modifier-order {profile.modifier_order!r} is not a policy in "
                f"modifiers.xml (known: {', '.join(modifiers.policies)}, or 'none')",
            )
    groups, carcs = parsed["carc.xml"].content  # type: ignore[misc]
    maps = _assemble(
        codes=parsed["codes.xml"].content,  # type: ignore[arg-type]
        ptp_edits=parsed["ncci-ptp.xml"].content,  # type: ignore[arg-type]
        modifiers=modifiers,
        profiles=payer_map.profiles,
        groups=groups,
        carcs=carcs,
        rarcs=parsed["rarc.xml"].content,  # type: ignore[arg-type]
        mue_edits={},
        provenance={n: p.provenance for n, p in parsed.items()},
        places=parsed["places.xml"].content,  # type: ignore[arg-type]
        therapy_thresholds=payer_map.therapy_thresholds,
    )
    extra = tuple(extra_ptp)
    if extra or mue or ptp_authoritative:
        maps = maps.with_cms(extra, mue, ptp_authoritative=ptp_authoritative)
    return maps


def _read_dir(directory: str | Traversable) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name in MAP_FILES:
        data = _file_bytes(directory, name)
        if data is None:
            raise MapError(name, None, f"map file missing from {directory}")
        files[name] = data
    return files


def shipped_map_files() -> dict[str, bytes]:
    """The bytes of the map files shipped in the package, by name."""
    return _read_dir(_package_dir())


_shipped: Maps | None = None


def _default_maps() -> Maps:
    global _shipped
    if _shipped is None:
        _shipped = build_maps(shipped_map_files())
    return _shipped


def shipped_maps_ready() -> bool:
    """Whether this process already holds the shipped maps (built or handed over)."""
    return _shipped is not None


def use_shipped_maps(maps: Maps) -> None:
    """Make ``maps`` what :func:`load_maps` returns for the shipped files in this process.

    For the CLI's compiled-maps cache: the caller vouches that ``maps`` was built from
    exactly :func:`shipped_map_files` (``compiled_maps.compiled_key`` checks it).
    """
    global _shipped
    _shipped = maps


def load_maps(
    *,
    extra_ptp: Iterable[PtpEdit] = (),
    mue: Mapping[str, MueEdit] | None = None,
    maps_dir: str | os.PathLike[str] | Traversable | None = None,
    ptp_authoritative: bool = False,
) -> Maps:
    """Load the maps, optionally merged with official CMS PTP edits and MUEs.

    The shipped maps are parsed once per process and cached; merging CMS data makes a new
    :class:`Maps` from the cached one without re-parsing XML.

    Args:
        extra_ptp: edits from :func:`edi_rehab.cms_files.parse_ptp_file` (or its cache).
        mue: MUEs from :func:`edi_rehab.cms_files.parse_mue_file` (or its cache).
        maps_dir: read the map files (MAP_FILES) from this directory instead of the package (not cached;
            validated against the package's schemas).
        ptp_authoritative: drop every map PTP edit and keep only ``extra_ptp`` (use with a full
            quarterly file; see :meth:`Maps.with_cms`).

    Raises:
        MapError: a map file is missing, malformed or inconsistent.
    """
    if maps_dir is None:
        base = _default_maps()
    else:
        # A Traversable (importlib.resources) or a path; checked by shape so that
        # importlib.resources need not be imported.
        is_traversable = hasattr(maps_dir, "iterdir") and hasattr(maps_dir, "read_bytes")
        directory = maps_dir if is_traversable else os.fspath(maps_dir)
        base = build_maps(_read_dir(directory))
    extra = tuple(extra_ptp)
    if not extra and not mue and not ptp_authoritative:
        return base
    return base.with_cms(extra, mue, ptp_authoritative=ptp_authoritative)
