"""The 8-minute rule, both methods, as pure functions over minutes.

Theory of operation
-------------------
A therapy claim line carries *units* (SV104 with SV103 = ``UN``); the minutes behind
them live in the EMR. This module turns minutes into the units a payer allows and
judges the units that were billed. It never reads a claim: the caller (the rule
engine) groups one patient's timed services for one date of service into a mapping
``{service key: minutes}`` and another ``{service key: billed units}``.

A *service key* is any hashable value. Usually it is the procedure code (``"97110"``);
an assistant's part of a code is keyed ``("97110", "CQ")`` (or ``"97110+CQ"``, as
``details`` spell it), and only those two shapes are ever looked inside
(:func:`assistant_part`).

Assistants (CQ/CO), CMS method only. The parts of one code are *one service* for the
day's total: the cap and the allocation across codes use the code's therapist and
assistant minutes together. Each code's units are then split by the CMS assistant
procedure (:func:`assistant_units`, reference §4.3; CMS "Billing Examples Using CQ/CO
Modifiers"; CY2020 PFS final rule 84 FR 62702-62707, CY2022 PFS final rule): each
clinician's full 15-minute blocks go to whoever delivered them; a remaining unit carries
CQ/CO when the assistant's remaining minutes are more than 10% of that unit's minutes;
two remaining units (each clinician 9-14 minutes) are billed one with CQ/CO and one
without. A bill whose code totals are valid but which bills a unit without CQ/CO that
the procedure gives to the assistant gets the verdict ``"U113"`` (CQ/CO under-applied);
one that puts CQ/CO on a unit the procedure gives to the therapist is ``"U103"``.
Under the per-code method each part is still rounded on its own (today's behaviour: no
source says how a payer counting per code treats CQ/CO, reference §4.3 "Commercial").

Two methods (reference §1.2 and §1.6), chosen per payer by the caller:

* ``"cms"``, the total-minutes method of Pub. 100-04 ch. 5 §20.2. The day's timed
  minutes are pooled into a *cap* of units; each service first gets one unit per full
  15 minutes, and the units still left under the cap go to the services with the
  largest leftover minutes. When leftovers tie at the threshold CMS leaves the choice
  to the clinician (Ex. 2 and Ex. 5), so :func:`cms_allocations` returns *every* valid
  allocation rather than silently picking one.
* ``"per-code"``, the AMA "Rule of Eights" / substantial-portion method. Each service
  is rounded on its own; minutes are never pooled.

Untimed codes (evaluations, 97010-97028, 97150, 92507, ...) and codes timed in other
than 15-minute units never enter these functions: the caller filters them out using
the timed-code table in ``maps/``. Minutes handed in here are taken to be minutes of
15-minute timed codes (§20.3: untimed minutes are never added to the timed total).

Invariants (each has a property test):

1. ``units_for_minutes(m)`` is 0 for ``m < 8``, else ``(m + 7) // 15``.
2. Every CMS allocation sums to ``cms_allowed_total(...)``.
3. In every CMS allocation a service gets ``m // 15`` or ``m // 15 + 1`` units, the
   extra unit only when ``m % 15 > 0``; every service with minutes appears, even at 0.
4. The cap never falls when minutes are added.
5. A service's per-code units depend on its own minutes alone.

Bad *values* (negative or non-integer minutes or units, an unknown method) are
programming errors in the caller and raise ``ValueError``/``TypeError``. A billed
service with no minutes is a fact about the data, so :func:`assess` reports it as the
verdict ``"U104"`` instead of raising.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal

__all__ = [
    "ServiceKey",
    "Method",
    "METHODS",
    "Verdict",
    "MINUTES_PER_UNIT",
    "MINIMUM_MINUTES",
    "UnitAssessment",
    "units_for_minutes",
    "cms_allowed_total",
    "cms_allocations",
    "per_code_units",
    "assess",
    "closest_allocation",
    "assistant_part",
    "assistant_units",
]

#: Whatever the caller keys services by: a procedure code, or (code, "CQ") for a CQ split.
ServiceKey = Hashable

Method = Literal["cms", "per-code"]
METHODS: tuple[Method, ...] = ("cms", "per-code")

#: The rule codes :func:`assess` can raise. U101 over-billed, U102 under-billed,
#: U103 units on the wrong services, U104 units billed for a service with no minutes,
#: U113 (CMS) a unit billed without CQ/CO that the assistant procedure gives CQ/CO.
Verdict = Literal["U101", "U102", "U103", "U104", "U113"]

#: CPT "each 15 minutes".
MINUTES_PER_UNIT = 15
#: A unit is attained once the midpoint of 15 minutes is passed (CPT introduction; §20.2.C).
MINIMUM_MINUTES = 8


@dataclass(frozen=True, slots=True)
class UnitAssessment:
    """What one day's billed units look like against its minutes, under one method.

    The verdicts are the authority; the service tuples explain them. ``over`` and
    ``under`` compare the bill with ``closest`` (the allocation a units fix would
    move to), so they are informative even when the CMS verdict is decided by totals.
    """

    method: Method
    #: CMS: the cap from the pooled minutes. Per-code: the sum of each service's rounding.
    allowed_total: int
    #: Every valid allocation, in a deterministic order. Per-code has exactly one.
    allocations: tuple[dict[ServiceKey, int], ...] = field(hash=False)
    #: Billed units for every service that has minutes, 0 where it was not billed.
    billed: dict[ServiceKey, int] = field(hash=False)
    #: Units billed in total, including services with no minutes.
    billed_total: int
    #: The valid allocation closest to the bill (see :func:`closest_allocation`).
    closest: dict[ServiceKey, int] = field(hash=False)
    #: Services billed above ``closest``, in the order of the minutes mapping.
    over: tuple[ServiceKey, ...]
    #: Services billed below ``closest``, in the order of the minutes mapping.
    under: tuple[ServiceKey, ...]
    #: Billed services absent from the minutes mapping (they raise U104).
    missing_minutes: tuple[ServiceKey, ...]
    verdicts: frozenset[Verdict]


def units_for_minutes(minutes: int) -> int:
    """Units for one timed service rounded on its own (the CMS chart, §20.2.C).

    >>> [units_for_minutes(m) for m in (7, 8, 22, 23, 37, 38)]
    [0, 1, 1, 2, 2, 3]
    """
    _check_count(minutes, "minutes")
    if minutes < MINIMUM_MINUTES:
        return 0
    # N units for 15N-7 <= T <= 15N+7; adding 7 before flooring moves each band edge to a multiple of 15.
    return (minutes + MINIMUM_MINUTES - 1) // MINUTES_PER_UNIT


def cms_allowed_total(minutes_by_service: Mapping[ServiceKey, int]) -> int:
    """The most timed units CMS allows for the day: the pooled minutes, rounded once."""
    _check_counts(minutes_by_service, "minutes")
    return units_for_minutes(sum(minutes_by_service.values()))


def cms_allocations(
    minutes_by_service: Mapping[ServiceKey, int],
) -> tuple[dict[ServiceKey, int], ...]:
    """Every allocation of the CMS cap across services that §20.2 accepts.

    Each service gets one unit per full 15 minutes; the units still left under the cap
    go to the services with the largest leftover minutes (``m % 15 > 0``). Services
    tied at the threshold are the clinician's choice, so each choice is one allocation.

    Every key of ``minutes_by_service`` appears in every allocation, even with 0 units
    (CMS Ex. 4: the 8 minutes of 97035 earn nothing). Allocations come in the order
    ``itertools.combinations`` picks tied services, taken in the mapping's order, so the
    same input always gives the same tuple. Their number is C(tied, left); for a day of
    therapy (a handful of codes) that stays small.

    Returns at least one allocation; ``({},)`` for no services.
    """
    allowed = cms_allowed_total(minutes_by_service)
    full = {key: minutes // MINUTES_PER_UNIT for key, minutes in minutes_by_service.items()}
    leftover = {key: minutes % MINUTES_PER_UNIT for key, minutes in minutes_by_service.items()}
    units_left = allowed - sum(full.values())
    if units_left == 0:
        return (full,)

    candidates = [key for key, rest in leftover.items() if rest > 0]
    # Pooling adds (sum of leftovers + 7) // 15 units, never more than the number of
    # services with leftovers, because each leftover is at most 14 minutes.
    assert 0 < units_left <= len(candidates), (units_left, candidates)
    ranked = sorted(candidates, key=lambda key: -leftover[key])  # stable: ties keep mapping order
    threshold = leftover[ranked[units_left - 1]]
    certain = [key for key in candidates if leftover[key] > threshold]
    tied = [key for key in candidates if leftover[key] == threshold]

    allocations = []
    for chosen in combinations(tied, units_left - len(certain)):
        allocation = dict(full)
        for key in (*certain, *chosen):
            allocation[key] += 1
        allocations.append(allocation)
    return tuple(allocations)


def per_code_units(minutes_by_service: Mapping[ServiceKey, int]) -> dict[ServiceKey, int]:
    """Units under the per-code method: each service rounded on its own, never pooled."""
    _check_counts(minutes_by_service, "minutes")
    return {key: units_for_minutes(minutes) for key, minutes in minutes_by_service.items()}


def assess(
    minutes_by_service: Mapping[ServiceKey, int],
    billed_by_service: Mapping[ServiceKey, int],
    method: Method,
) -> UnitAssessment:
    """Judge one day's billed timed units against its minutes.

    Args:
        minutes_by_service: minutes of every *timed* service performed that day, billed
            or not (an unbilled service's minutes still count toward the CMS cap).
        billed_by_service: units billed per service. A service with minutes but absent
            here was billed 0 units.
        method: ``"cms"`` (total minutes) or ``"per-code"``.

    Verdicts:
        CMS, judged on the day as a whole:
          * U101 when the billed total exceeds the cap;
          * U103 when the billed total equals the cap but the bill is not one of the
            valid allocations;
          * U102 when the billed total is below the cap, plus U103 when the bill fits
            under no valid allocation service by service (some service is billed more
            than any allocation gives it).
        Per-code, judged service by service: U101 when some service is billed above its
        own rounding (those services are in ``over``), U102 when some falls short (in
        ``under``). U103 never applies: there is nothing to allocate.
        CMS with assistant parts (keys ``(code, "CQ")``): the verdicts above are judged on
        each code's parts added together; then U113 when a unit is billed without CQ/CO
        that :func:`assistant_units` gives CQ/CO, and U103 when CQ/CO is on a unit it
        gives the therapist. ``allocations`` and ``closest`` are per part.
        U104, either method, when a billed service has no minutes; the services are in
        ``missing_minutes``. The caller reports U104 per line. Under CMS the missing
        minutes could change the cap, so no other verdict is given; per-code still
        judges the services that do have minutes.

    Raises:
        ValueError: unknown method, or negative minutes or units.
        TypeError: minutes or units that are not ``int``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown unit method {method!r}; expected one of {METHODS}")
    _check_counts(minutes_by_service, "minutes")
    _check_counts(billed_by_service, "billed units")

    missing = tuple(key for key in billed_by_service if key not in minutes_by_service)
    billed = {key: billed_by_service.get(key, 0) for key in minutes_by_service}
    pooled = method == "cms" and _pools_assistant_parts(minutes_by_service)
    if pooled:
        code_allocations = cms_allocations(_code_minutes(minutes_by_service))
        allocations = tuple(_split_for_assistants(a, minutes_by_service) for a in code_allocations)
        allowed = cms_allowed_total(minutes_by_service)
    elif method == "cms":
        allocations = cms_allocations(minutes_by_service)
        allowed = cms_allowed_total(minutes_by_service)
    else:
        allocations = (per_code_units(minutes_by_service),)
        allowed = sum(allocations[0].values())
    closest = closest_allocation(allocations, billed)
    over = tuple(key for key in billed if billed[key] > closest[key])
    under = tuple(key for key in billed if billed[key] < closest[key])

    verdicts: set[Verdict] = {"U104"} if missing else set()
    if method == "per-code":
        if over:
            verdicts.add("U101")
        if under:
            verdicts.add("U102")
    elif not missing and pooled:
        code_billed = _code_minutes(billed)
        verdicts |= _cms_verdicts(code_billed, code_allocations, allowed)
        if not verdicts & {"U101", "U103"}:
            verdicts |= _assistant_verdicts(billed, code_billed, code_allocations, allocations)
    elif not missing:
        verdicts |= _cms_verdicts(billed, allocations, allowed)

    return UnitAssessment(
        method=method,
        allowed_total=allowed,
        allocations=allocations,
        billed=billed,
        billed_total=sum(billed_by_service.values()),
        closest=closest,
        over=over,
        under=under,
        missing_minutes=missing,
        verdicts=frozenset(verdicts),
    )


def closest_allocation(
    allocations: Sequence[Mapping[ServiceKey, int]],
    billed: Mapping[ServiceKey, int],
) -> dict[ServiceKey, int]:
    """The valid allocation a units fix should move the bill to.

    Chosen by, in order:
      1. the fewest units changed, Σ|allocation - billed| (a key missing on either side
         counts as 0 units);
      2. the fewest units *added* above what was billed, so a fix prefers lowering a
         line to raising another (raising units adds charges the clinician never billed);
      3. the earliest in ``allocations``.

    Returns a new dict. Raises ``ValueError`` for an empty ``allocations``.
    """
    if not allocations:
        raise ValueError("closest_allocation needs at least one allocation")

    def cost(indexed: tuple[int, Mapping[ServiceKey, int]]) -> tuple[int, int, int]:
        index, allocation = indexed
        keys = allocation.keys() | billed.keys()
        changes = [allocation.get(key, 0) - billed.get(key, 0) for key in keys]
        return (sum(abs(change) for change in changes), sum(c for c in changes if c > 0), index)

    _, best = min(enumerate(allocations), key=cost)
    return dict(best)


#: CMS de minimis standard: a remaining unit carries CQ/CO when the assistant's minutes are
#: more than this share of the unit's minutes (CY2020 PFS final rule, reference §4.3).
DE_MINIMIS_PERCENT = 10


def assistant_part(key: ServiceKey) -> tuple[ServiceKey, str]:
    """``(code, assistant modifier)`` for a service key.

    ``("97110", "CQ")`` and ``"97110+CQ"`` are the CQ part of 97110; any other key is the
    therapist's part of itself, ``(key, "")``.

    >>> assistant_part(("97110", "CQ")), assistant_part("97530+CO"), assistant_part("97110")
    (('97110', 'CQ'), ('97530', 'CO'), ('97110', ''))
    """
    if isinstance(key, tuple) and len(key) == 2:
        return key[0], key[1]
    if isinstance(key, str) and "+" in key:
        code, _, assistant = key.partition("+")
        return code, assistant
    return key, ""


def assistant_units(units: int, therapist_minutes: int, assistant_minutes: int) -> tuple[int, int]:
    """Split one code's day of ``units`` into (units without CQ/CO, units with CQ/CO).

    The CMS procedure for services furnished in whole or in part by an assistant
    (reference §4.3): each clinician's full 15-minute blocks are theirs; one remaining unit
    carries CQ/CO when the assistant's remaining minutes are more than 10% of the remaining
    minutes; two remaining units (possible only when each clinician has 9-14 minutes left,
    CY2022 PFS) are billed one with CQ/CO and one without.

    >>> assistant_units(3, 20, 18)   # 15 + 15, then 5 + 3 = 8 minutes: 3 of 8 > 10%
    (1, 2)
    >>> assistant_units(1, 10, 5)    # 5 of 15 > 10%
    (0, 1)
    >>> assistant_units(2, 13, 23)   # CMS example: 15 of PTA, then 13 + 8: 8 of 21 > 10%
    (0, 2)
    >>> assistant_units(2, 14, 14)   # CY2022: one with CQ, one without
    (1, 1)
    >>> assistant_units(1, 14, 1)    # 1 of 15 is not more than 10%
    (1, 0)

    Raises:
        ValueError: ``units`` fewer than the full blocks, or more than the full blocks plus
            the remaining minutes can make (not an allocation :func:`cms_allocations` gives).
    """
    _check_count(units, "units")
    _check_count(therapist_minutes, "therapist minutes")
    _check_count(assistant_minutes, "assistant minutes")
    therapist_full, therapist_rest = divmod(therapist_minutes, MINUTES_PER_UNIT)
    assistant_full, assistant_rest = divmod(assistant_minutes, MINUTES_PER_UNIT)
    remaining = units - therapist_full - assistant_full
    rest = therapist_rest + assistant_rest
    if remaining == 0:
        return therapist_full, assistant_full
    if remaining == 1 and rest > 0:
        if assistant_rest * 100 > DE_MINIMIS_PERCENT * rest:
            return therapist_full, assistant_full + 1
        return therapist_full + 1, assistant_full
    if remaining == 2 and therapist_rest and assistant_rest and rest >= MINUTES_PER_UNIT:
        return therapist_full + 1, assistant_full + 1
    raise ValueError(
        f"{units} units cannot come from {therapist_minutes} therapist and {assistant_minutes} assistant minutes"
    )


def _pools_assistant_parts(minutes_by_service: Mapping[ServiceKey, int]) -> bool:
    """Whether the CMS assistant procedure applies: some key is an assistant's part, and no
    code has parts of two assistant modifiers (CQ and CO of one code in one group cannot be
    split by one procedure, so such a day keeps each part as its own service)."""
    assistants: dict = {}
    for key in minutes_by_service:
        code, assistant = assistant_part(key)
        if assistant:
            assistants.setdefault(code, set()).add(assistant)
    return bool(assistants) and all(len(kinds) == 1 for kinds in assistants.values())


def _code_minutes(counts: Mapping[ServiceKey, int]) -> dict[ServiceKey, int]:
    """The counts of each code's therapist and assistant parts added together."""
    totals: dict = {}
    for key, count in counts.items():
        code = assistant_part(key)[0]
        totals[code] = totals.get(code, 0) + count
    return totals


def _split_for_assistants(
    code_allocation: Mapping[ServiceKey, int], minutes_by_service: Mapping[ServiceKey, int]
) -> dict[ServiceKey, int]:
    """A code-level allocation as units per part (the keys of ``minutes_by_service``)."""
    parts: dict = {}
    for key, minutes in minutes_by_service.items():
        code, assistant = assistant_part(key)
        entry = parts.setdefault(code, [None, 0, None, 0])
        if assistant:
            entry[2], entry[3] = key, minutes
        else:
            entry[0], entry[1] = key, minutes
    allocation: dict = {}
    for key in minutes_by_service:
        code = assistant_part(key)[0]
        therapist_key, therapist_minutes, assistant_key, assistant_minutes = parts[code]
        without, with_assistant = assistant_units(code_allocation[code], therapist_minutes, assistant_minutes)
        allocation[key] = with_assistant if key == assistant_key else without
    return allocation


def _assistant_verdicts(
    billed: Mapping[ServiceKey, int],
    code_billed: Mapping[ServiceKey, int],
    code_allocations: tuple[dict[ServiceKey, int], ...],
    allocations: tuple[dict[ServiceKey, int], ...],
) -> set[Verdict]:
    """With valid code totals: is CQ/CO on the units the assistant procedure gives it?

    Judged against every allocation the code totals fit under. A bill that fits one part
    by part is right. Otherwise, when every such allocation gives some therapist part
    fewer units than billed, units without CQ/CO are billed that the procedure gives
    CQ/CO: U113. When only assistant parts are over, CQ/CO is on a therapist's unit: U103.
    """
    fitting = [
        allocation
        for code_allocation, allocation in zip(code_allocations, allocations)
        if all(units <= code_allocation[code] for code, units in code_billed.items())
    ]
    if any(all(units <= allocation[key] for key, units in billed.items()) for allocation in fitting):
        return set()
    therapist_fits = any(
        all(units <= allocation[key] for key, units in billed.items() if not assistant_part(key)[1])
        for allocation in fitting
    )
    return {"U103"} if therapist_fits else {"U113"}


def _cms_verdicts(
    billed: Mapping[ServiceKey, int],
    allocations: tuple[dict[ServiceKey, int], ...],
    allowed: int,
) -> set[Verdict]:
    billed_total = sum(billed.values())
    if billed_total > allowed:
        return {"U101"}
    if billed_total == allowed:
        return set() if dict(billed) in allocations else {"U103"}
    # Under-billing is allowed, but only by dropping units a valid allocation gives;
    # billing a service more than any allocation allows is still a misallocation.
    fits_under_one = any(
        all(units <= allocation[key] for key, units in billed.items()) for allocation in allocations
    )
    return {"U102"} if fits_under_one else {"U102", "U103"}


def _check_counts(counts: Mapping[ServiceKey, int], what: str) -> None:
    for key, value in counts.items():
        _check_count(value, f"{what} for {key!r}")


def _check_count(value: int, what: str) -> None:
    # bool is an int subclass; True minutes is a caller bug, not 1 minute.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value}")
