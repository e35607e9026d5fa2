"""Appeal packets as values: a letter (Markdown and HTML) and a replacement claim per claim.

Theory of operation
-------------------
:func:`build_packets` reads a :class:`~edi_rehab.match.MatchResult` and, for every 837 claim
whose *latest* adjudication still leaves a line denied (a line paid after a correction is not
denied any more), decides what to send:

* the correction route follows the payer profile (``correction_route`` in ``maps/payers.xml``):
  for ``reopening`` (Medicare Part B) match already turned every correction into a
  ``reopening`` action, and the letter is a clerical-error reopening request with a
  "Changes requested" table (line, code, change) and the evidence; no claim file is ever
  built for such a payer except a new claim after an MA130 return;
* a line whose action is ``corrected-claim`` or ``new-claim`` asks for a replacement claim;
  it is built (:func:`edi_rehab.extract.build_claim_file`) when every such line has a
  correction that needs no human decision (a modifier to add, units to bill) and the
  claim can take it; otherwise the letter says what to change by hand;
* ``appeal`` and ``reopening`` lines ask for the letter's reconsideration request;
* claims whose denied lines are all ``write-off``, ``bill-patient`` or ``none`` get no packet
  (:attr:`Packets.skipped` says why), because there is nothing to send to the payer.

The replacement is a complete 837P holding the claim alone: every original line (paid ones
too: a replacement replaces the whole claim), the corrections, CLM05-3 = the payer profile's
``replacement_frequency`` (``7`` with REF*F8 = the latest CLP07 after any reversal, or ``1``;
always ``1`` for the ``new-claim`` route),
``1`` for a claim returned as unprocessable (MA130), fresh ISA13/GS06/ST02 and consistent HL,
LX, CLM02 and SE01. Units or lines are not changed on a claim with COB loops (2320/2430):
that would unbalance the other payer's adjudication.

An appeal letter is titled by the profile's first appeal level (Medicare: redetermination,
form CMS-20027); it and a reopening request carry the date to file by, counted from the
835's date with the profile's days.

The letter is built as a small document model (:class:`Block` values) and rendered twice
from the same jinja2 template, one per letter kind (``edi_rehab/templates/<kind>.j2``, which
sets the heading and extends ``_letter.j2``, the layout): :func:`render_letter`. **Every**
value is escaped, so nothing taken from a file (CLM01, names, payer names, time blocks, code
texts from ``--carc-file``) can become markup: the HTML environment autoescapes, the Markdown
one passes each value through :func:`md_escape` (punctuation backslash-escaped, ``<``/``>``/
``&`` as entities); the page forbids scripts (Content-Security-Policy). The letter speaks to
the payer only: what the user must do before sending it goes to ``checklist.md``
(:attr:`AppealPacket.checklist`), rendered by :func:`render_markdown`.

Folder names (:func:`folder_name`) are ``NNN-<CLM01 reduced to [A-Za-z0-9._-]>``: the
ordinal makes them unique even for duplicate CLM01s and on case-insensitive file systems,
and the reduction keeps them inside the output folder whatever CLM01 holds.

Nothing here does I/O; the CLI writes the files.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .extract import ControlNumbers, ExtractError, build_claim_file, delete_line_edit, modifier_edit, units_edits
from .findings import Edit
from .config import Practice
from .mapdata import AppealLevel, Maps, PayerProfile
from .match import ClaimRecord, Correction, MatchResult, MatchRow, money_text

__all__ = [
    "SUPPORT",
    "CHECKLISTS",
    "Block",
    "AppealPacket",
    "Packets",
    "build_packets",
    "folder_name",
    "index_json",
    "render_markdown",
    "render_html",
    "render_letter",
    "LETTER_KINDS",
]

#: Actions that send something to the payer.
SENDING = ("corrected-claim", "new-claim", "reopening", "appeal")

#: The rule and its source that support the billing, per category (our own summaries of
#: public CMS manuals and NCCI guidance; reference sections 1-4 and 7).
SUPPORT: dict[str, tuple[str, ...]] = {
    "units": (
        "Medicare Claims Processing Manual (Pub. 100-04), Chapter 5, §20.2: 15-minute timed codes are billed in "
        "units counted from the total timed minutes of the day (one unit for 8 to 22 minutes, two for 23 to 37, "
        "and so on: the 8-minute rule).",
        "Medicare Benefit Policy Manual (Pub. 100-02), Chapter 15, §220.3: the treatment note records the total "
        "timed minutes and the total treatment minutes that support the units.",
    ),
    "ncci-bundling": (
        "NCCI procedure-to-procedure (PTP) edits: when both codes of a pair are billed for the same patient on the "
        "same date, only the column 1 code is paid unless the pair's modifier indicator is 1 and an NCCI-associated "
        "modifier (59, XE, XP, XS or XU) shows the services were distinct.",
        "CMS NCCI guidance on modifier 59 (its example pairs 97140 with 97530): modifier 59 may be reported when the "
        "two procedures are performed in distinctly different 15-minute time blocks, and not when they share a "
        "block. MLN fact sheet MLN1783722, Proper Use of Modifiers 59, XE, XP, XS and XU, describes the X modifiers.",
    ),
    "modifier": (
        "Medicare Claims Processing Manual (Pub. 100-04), Chapter 5, §20.1: every outpatient therapy service "
        "carries the GP, GO or GN modifier of the plan of care it is delivered under; CQ and CO mark services "
        "furnished in whole or in part by a therapy assistant (Social Security Act §1834(v)) and travel with GP "
        "and GO.",
    ),
    "benefit-limit": (
        "Bipartisan Budget Act of 2018, §50202: the therapy caps became annual thresholds. Above the threshold the "
        "KX modifier attests that the services are medically necessary and that the record documents it; services "
        "with KX remain payable.",
    ),
    "medical-necessity": (
        "Medicare Benefit Policy Manual (Pub. 100-02), Chapter 15, §220: outpatient therapy is covered when it is "
        "reasonable and necessary and furnished under a certified plan of care; §220.3 lists the documentation "
        "(evaluation, plan of care, progress reports, treatment notes).",
    ),
    "authorization": ("The payer's prior authorization requirements for outpatient therapy, and the authorization issued for these dates.",),
    "duplicate": ("Each line reports a distinct service (a different date, session or procedure); the remittance shows no earlier payment for it.",),
    "eligibility": ("Coverage on the date of service, as the payer's eligibility response (271) confirmed it.",),
    "timely-filing": (
        "Medicare: 42 CFR §424.44 (claims are filed within one calendar year after the date of service). Other payers: "
        "the filing limit in the provider agreement. The first submission was timely, as the acceptance reports show.",
    ),
    "other": (),
    # a payer that counts units per code (maps/payers.xml unit-method="per-code"): not Medicare's §20.2
    "units-per-code": (
        "The CPT time rule for 15-minute timed codes: a unit is attained once the midpoint (8 minutes) is passed, "
        "each code counted on its own.",
        "The payer's own policy on timed therapy units, as the provider agreement names it.",
    ),
    "coding": (
        "The code billed must be the one the payer recognises for the service furnished; Medicare pays unattended "
        "electrical stimulation as HCPCS G0283, not CPT 97014.",
    ),
    "enrollment": ("The provider's enrollment with the payer, effective on the date of service.",),
    # a CARC 119 from a payer without Medicare's therapy threshold: KX means nothing there
    "visit-limit": (
        "The plan's benefit terms for outpatient therapy visits in the period, and its process for approving "
        "visits above the limit when the record shows they are medically necessary.",
    ),
    # an NCCI pair with an evaluation or re-evaluation: the argument is a separately
    # identifiable evaluation, not separate time blocks (evaluations are not timed)
    "ncci-evaluation": (
        "NCCI procedure-to-procedure (PTP) edits: when both codes of a pair are billed for the same patient on the "
        "same date, only the column 1 code is paid unless the pair's modifier indicator is 1 and an NCCI-associated "
        "modifier (59, XE, XP, XS or XU) shows the services were distinct.",
        "An evaluation or re-evaluation is separately payable beside treatment on the same date when it is a "
        "separately identifiable service: a re-evaluation is indicated by new clinical findings, a significant "
        "change in the patient's condition, or a failure to respond to the plan of care (Medicare Benefit Policy "
        "Manual, Pub. 100-02, Chapter 15, §220.3), and it is documented apart from the treatment furnished that day.",
    ),
    "unprocessable": (
        "A claim returned as unprocessable (RARC MA130) carries no appeal rights; it is corrected and submitted as a "
        "new claim.",
    ),
}

#: The documentation to gather, per category.
CHECKLISTS: dict[str, tuple[str, ...]] = {
    "units": (
        "Treatment note for each date of service with the total timed minutes and the total treatment minutes (Pub. 100-02 Ch. 15 §220.3)",
        "Minutes per timed code from the EMR's time log",
        "The units calculation under the 8-minute rule (Pub. 100-04 Ch. 5 §20.2) for each date",
        "The plan of care that covers the services",
    ),
    "ncci-bundling": (
        "Treatment note with the start and stop time of each service, showing distinct 15-minute time blocks",
        "What each service addressed (goal or body region), showing they were separate",
        "The NCCI edit (column 1, column 2, modifier indicator) from the PTP file in force on the date of service",
        "The corrected line carrying 59 or XU, only if the time blocks were distinct",
    ),
    "ncci-evaluation": (
        "The evaluation or re-evaluation note, showing what made it necessary that day and what it found",
        "The treatment note for the same date, showing the treatment as a service apart from the evaluation",
        "The NCCI edit (column 1, column 2, modifier indicator) from the PTP file in force on the date of service",
    ),
    "modifier": (
        "The plan of care for the discipline (PT, OT or SLP) the service was delivered under",
        "Credentials of the treating therapist, and the assistant's share of the service when CQ or CO applies",
        "The corrected line with its modifiers",
    ),
    "benefit-limit": (
        "Year-to-date therapy amounts for the discipline (PT and SLP combined, OT separately)",
        "Documentation of medical necessity above the threshold: progress report, objective measures, goals",
        "The corrected line with KX, when the record supports it",
        "The signed ABN, when GA is on the line",
    ),
    "medical-necessity": (
        "Signed and certified plan of care covering the dates of service",
        "Initial evaluation and the latest progress report",
        "Treatment notes for the denied dates",
        "Objective measures and functional goals showing the need for skilled therapy",
        "The coverage policy (LCD) the payer cited, when RARC N115 names one, addressed point by point",
    ),
    "authorization": (
        "The authorization number or letter with the approved dates and visits or units",
        "A log of the visits or units used against it",
        "Proof of a timely request, for a retroactive authorization",
    ),
    "duplicate": (
        "Both lines or claims with their dates and procedures",
        "Treatment notes showing separate sessions",
        "The remittance that adjudicated the original line",
    ),
    "eligibility": (
        "The eligibility response (271) or portal printout for the date of service",
        "A copy of the member ID card",
        "Other coverage (coordination of benefits) details",
    ),
    "timely-filing": (
        "The 999 and 277CA acceptance reports with their dates",
        "The first submission (claim file or clearinghouse report)",
        "Correspondence showing earlier submissions",
    ),
    "other": ("Everything the remark codes ask for", "The complete claim with the corrected data"),
    "coding": (
        "The treatment note showing the service furnished",
        "The code the payer pays for that service, from its fee schedule or coding policy, and the practice's charge for it",
        "For a diagnosis edit: the diagnosis codes and the patient's date of birth and sex as recorded",
    ),
    "units-per-code": (
        "Treatment note for each date of service with the timed minutes of each timed code",
        "The payer's policy on counting timed units",
        "The plan of care that covers the services",
    ),
    "visit-limit": (
        "The visits used in the plan year, and the limit the plan's benefit documents set",
        "Documentation of medical necessity for the further visits: progress report, objective measures, goals",
        "The plan's request form for additional visits, when it has one",
    ),
    "enrollment": (
        "The rendering and billing provider's enrollment record with the payer (Medicare: PECOS), with its effective dates",
        "The credentialing or contract approval letter, when the payer credentials providers",
    ),
    "unprocessable": ("The corrected claim, sent as a new claim (frequency 1)", "What the remark codes say was missing or invalid"),
}

_REQUESTS = {
    "appeal": "We ask you to reconsider the denial of {lines}: billed correctly, as the rules and documentation listed here show.",
    "reopening": "We ask you to reopen the claim and reprocess {lines} as submitted: the claim carried what the denial says was missing, so the denial appears to be a processing error.",
    "reopening-correction": "We ask you to reopen the claim to correct a clerical error on {lines}: the changes are listed below with the record that supports them. No replacement claim is sent.",
    "corrected-claim": "A corrected claim is enclosed for {lines}; the corrections are listed with each line.",
    "new-claim": "The claim was returned as unprocessable, which carries no appeal rights; a new claim correcting {lines} is enclosed.",
}


def _lines_words(numbers: Sequence[int]) -> str:
    if not numbers:
        return "the claim"
    return ("line " if len(numbers) == 1 else "lines ") + ", ".join(map(str, numbers))


# --------------------------------------------------------------------------------------------
# The document model and its two renderings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """One block of a letter. ``kind``: ``h1``, ``h2``, ``h3``, ``p``, ``lines`` (an address or
    signature: ``items`` one line each), ``facts`` (label, value
    pairs), ``ul``, ``checklist`` or ``table`` (``header`` + ``rows``). Every string in it is
    plain text: the renderers escape it."""

    kind: str
    text: str = ""
    items: tuple = ()
    header: tuple[str, ...] = ()


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _plain(text: object) -> str:
    return _CONTROL.sub(" ", str(text))


def md_escape(text: object) -> str:
    """Text safe to place in Markdown: no markup, no raw HTML, no entity tricks."""
    value = _plain(text)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MD_SPECIAL.sub(r"\\\1", value)
    # A block starting with -, + or = (list, rule, heading) or "1. " (ordered list) would
    # become markup; CommonMark lets any ASCII punctuation be backslash-escaped.
    value = re.sub(r"^(\s*)([-+=])", r"\1\\\2", value)
    return re.sub(r"^(\s*\d{1,9})([.)])(?=\s|$)", r"\1\\\2", value)


def render_markdown(blocks: Iterable[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        kind = block.kind
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + md_escape(block.text))
        elif kind == "p":
            out.append(md_escape(block.text))
        elif kind == "lines":
            # a hard line break (backslash at the end) keeps an address or signature one block
            out.append("\\\n".join(md_escape(item) for item in block.items))
        elif kind == "facts":
            out.append("\n".join(f"- **{md_escape(label)}:** {md_escape(value)}" for label, value in block.items))
        elif kind == "ul":
            out.append("\n".join(f"- {md_escape(item)}" for item in block.items))
        elif kind == "checklist":
            out.append("\n".join(f"- [ ] {md_escape(item)}" for item in block.items))
        elif kind == "table":
            lines = ["| " + " | ".join(md_escape(h) for h in block.header) + " |"]
            lines.append("|" + "|".join("---" for _ in block.header) + "|")
            lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in block.items]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def _h(text: object) -> str:
    return html.escape(_plain(text), quote=True)


_STYLE = (
    "body{font-family:Georgia,serif;max-width:50em;margin:2em auto;line-height:1.4}"
    "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em;text-align:left}"
    "ul.checklist{list-style:none}ul.checklist li:before{content:'\\2610  '}"
)


def render_html(blocks: Sequence[Block], title: str) -> str:
    body: list[str] = []
    for block in blocks:
        kind = block.kind
        if kind in ("h1", "h2", "h3"):
            body.append(f"<{kind}>{_h(block.text)}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{_h(block.text)}</p>")
        elif kind == "lines":
            body.append("<p>" + "<br>\n".join(_h(item) for item in block.items) + "</p>")
        elif kind == "facts":
            body.append("<ul>" + "".join(f"<li><strong>{_h(k)}:</strong> {_h(v)}</li>" for k, v in block.items) + "</ul>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_h(item)}</li>" for item in block.items) + "</ul>")
        elif kind == "checklist":
            body.append('<ul class="checklist">' + "".join(f"<li>{_h(item)}</li>" for item in block.items) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{_h(h)}</th>" for h in block.header)
            rows = "".join("<tr>" + "".join(f"<td>{_h(c)}</td>" for c in row) + "</tr>" for row in block.items)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>{_h(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


# -- the letter templates (jinja2): one per letter kind, Markdown and HTML from the same source --
_ENVIRONMENTS: dict[str, object] = {}


def _environment(fmt: str):
    """The jinja2 environment for ``md`` or ``html``. Every ``{{ value }}`` is escaped: HTML by
    jinja2's autoescaping (after control characters become spaces), Markdown by
    :func:`md_escape` as the environment's ``finalize``. Only the templates' own text is markup."""
    env = _ENVIRONMENTS.get(fmt)
    if env is None:
        import jinja2

        env = jinja2.Environment(
            loader=jinja2.PackageLoader("edi_rehab", "templates"),
            autoescape=fmt == "html",
            finalize=md_escape if fmt == "md" else _plain,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
        )
        _ENVIRONMENTS[fmt] = env
    return env


#: the letter kinds, each with its template ``edi_rehab/templates/<kind>.j2``
LETTER_KINDS = ("appeal", "reopening", "reopening-correction", "corrected-claim", "new-claim")


def render_letter(kind: str, fmt: str, blocks: Sequence[Block], *, claim_id: str, level_name: str = "", title: str = "") -> str:
    """The letter of ``kind`` (:data:`LETTER_KINDS`) as ``fmt`` (``md`` or ``html``): its
    template gives the heading, ``_letter.j2`` the layout of ``blocks`` (those after the heading)."""
    if kind not in LETTER_KINDS:
        raise ValueError(f"no letter template for {kind!r}")
    template = _environment(fmt).get_template(f"{kind}.j2")
    return template.render(fmt=fmt, blocks=blocks, claim_id=claim_id, level_name=level_name, title=title)


# --------------------------------------------------------------------------------------------
# Packets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppealPacket:
    """What goes into one folder."""

    number: int
    claim_id: str
    folder: str
    #: the 837 file the claim came from (None when the 835 named no claim given)
    file: str | None
    letter_markdown: str
    letter_html: str
    #: the replacement or new 837P, when a correction resolves the denial
    replacement: bytes | None
    #: CLM05-3 of the replacement
    frequency: str | None
    #: LX01 of every line still denied
    lines: tuple[int, ...]
    actions: tuple[str, ...]
    #: why no replacement was built, edits that were skipped ... (no patient data)
    notes: tuple[str, ...] = ()
    #: what the letter is: ``appeal``, ``reopening`` (reprocess as sent), ``reopening-correction``
    #: (a clerical-error reopening request naming the changes), ``corrected-claim``, ``new-claim``
    request: str = ""
    #: what the user must do before sending (missing evidence, placeholders to fill): never in the letter
    checklist: tuple[str, ...] = ()
    #: :attr:`checklist` and :attr:`documents` as the Markdown of ``checklist.md``
    checklist_markdown: str = ""
    #: the documents to gather for the category (the checklist file's second list)
    documents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Skipped:
    claim_id: str
    lines: tuple[int, ...]
    actions: tuple[str, ...]

    def to_json(self) -> dict:
        return {"claim_id": self.claim_id, "lines": list(self.lines), "actions": list(self.actions)}


@dataclass(frozen=True, slots=True)
class Packets:
    packets: tuple[AppealPacket, ...]
    skipped: tuple[Skipped, ...] = ()


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def folder_name(number: int, claim_id: str) -> str:
    """``NNN-<claim id reduced to letters, digits, dot, dash, underscore>``: unique by its
    ordinal, and never a path (no separator, never ``.`` or ``..``, no leading dot)."""
    reduced = _SAFE.sub("_", claim_id).strip("._-")[:40].rstrip("._-") or "claim"
    return f"{number:03d}-{reduced}"


def index_json(packets: Packets) -> dict:
    """``index.json``: every packet with paths relative to the output folder."""
    return {
        "claims": [
            {
                "claim_id": p.claim_id,
                "letter": f"{p.folder}/letter.md",
                "checklist": f"{p.folder}/checklist.md",
                "replacement_claim": f"{p.folder}/replacement-837p.x12" if p.replacement is not None else None,
                "request": p.request,
                "lines": list(p.lines),
            }
            for p in packets.packets
        ],
        "not_appealed": [s.to_json() for s in packets.skipped],
    }


def _open_rows(rows: Sequence[MatchRow], line_count: int | None) -> tuple[list[MatchRow], list[int]]:
    """The rows of the latest adjudication of each line, and the lines still denied."""
    latest: dict[int, tuple[int, list[MatchRow]]] = {}
    for row in rows:
        if row.payment.is_reversal:
            continue
        indexes = row.match.indexes if row.service is not None else tuple(range(line_count or 0))
        for i in indexes or (-1,):
            seen = latest.get(i)
            key = id(row.payment)
            if seen is None or seen[0] != key:
                latest[i] = (key, [row])
            else:
                seen[1].append(row)
    open_rows: list[MatchRow] = []
    open_lines: list[int] = []
    for i, (_, items) in sorted(latest.items()):
        denied = [r for r in items if r.denied]
        if denied:
            open_lines.append(i)
            for r in denied:
                if all(r is not o for o in open_rows):
                    open_rows.append(r)
    return open_rows, open_lines


def build_packets(
    result: MatchResult,
    maps: Maps,
    *,
    today: date,
    control_start: int = 1,
    practice: Practice | None = None,
) -> Packets:
    """One packet per claim that still has a denied line needing something sent.

    Args:
        result: from :func:`edi_rehab.match.match_remittances`.
        maps: for payer profiles (replacement frequency).
        today: the letter's date.
        control_start: ISA13/GS06 of the first replacement claim; each next one adds 1.
        practice: the config's ``[practice]`` for the signature block (placeholders without it).
    """
    by_claim: dict[object, list[MatchRow]] = {}
    for row in result.rows:
        key = ("837", row.match.record.ordinal) if row.match.record is not None else ("835", row.remit_file, row.payment.index)
        by_claim.setdefault(key, []).append(row)
    packets: list[AppealPacket] = []
    skipped: list[Skipped] = []
    control = control_start
    for key, rows in by_claim.items():
        record = rows[0].match.record
        open_rows, open_lines = _open_rows(rows, len(record.claim.lines) if record else None)
        if not open_rows:
            continue
        actions = tuple(dict.fromkeys(r.action for r in open_rows))
        lxs = tuple(
            dict.fromkeys(
                lx
                for lx in ((record.lx(i) if record is not None and i >= 0 else None) for i in open_lines)
                if lx is not None
            )
        )
        claim_id = record.claim_id if record is not None else rows[0].remit_claim_id
        if not any(a in SENDING for a in actions):
            skipped.append(Skipped(claim_id, lxs, actions))
            continue
        number = len(packets) + 1
        folder = folder_name(number, claim_id)
        replacement, frequency, notes = None, None, []
        if record is not None and any(a in ("corrected-claim", "new-claim") for a in actions):
            replacement, frequency, notes = _replacement(result, maps, record, open_rows, control)
            if replacement is not None:
                control += 1
        elif record is None:
            notes.append("no 837 claim with this CLP01 was given: the letter uses the remittance alone")
        doubt = next((r.match.ambiguous_with for r in rows if r.match.ambiguous_with), ())
        if record is not None and doubt:
            others = ", ".join(f"{o.file}:{o.claim.position()}" for o in doubt)
            notes.append(
                f"the remittance fits other 837 claims with this CLM01 as well ({others}); this packet uses "
                f"{record.file}:{record.claim.position()}: check that it is the claim the payer adjudicated"
            )
        if record is not None:
            profile = record.profile or maps.profile_for(record.claim.payer_id, record.claim.filing_indicator)
        else:
            profile = maps.profile_for(None, rows[0].payment.filing_indicator)
        blocks, todo, gather = _letter(result, record, rows, open_rows, today, frequency, replacement is not None, notes, profile, practice or Practice())
        title = f"Claim {claim_id}: request to the payer"
        kind = next(_request_kind(r) for r in open_rows if r.action in SENDING)
        level_name = profile.appeal_levels[0].name if profile is not None and profile.appeal_levels else ""
        letter = {fmt: render_letter(kind, fmt, blocks, claim_id=claim_id, level_name=level_name, title=title) for fmt in ("md", "html")}
        packets.append(
            AppealPacket(
                number,
                claim_id,
                folder,
                record.file if record else None,
                letter["md"],
                letter["html"],
                replacement,
                frequency,
                lxs,
                actions,
                tuple(notes),
                kind,
                tuple(todo),
                render_markdown(checklist_blocks(claim_id, todo, gather)),
                tuple(gather),
            )
        )
    return Packets(tuple(packets), tuple(skipped))


def _corrections(rows: Sequence[MatchRow]) -> tuple[list[Correction], list[str]]:
    """Every correction the open correction lines need, deduplicated; and what is missing."""
    found: list[Correction] = []
    missing: list[str] = []
    for row in rows:
        if row.action not in ("corrected-claim", "new-claim"):
            continue
        ready = [c for c in row.assessment.corrections if c.ready]
        if not ready:
            lines = ", ".join(map(str, row.match.lines)) or "?"
            missing.append(f"line {lines}: {row.assessment.fix or 'a correction a person must decide'}")
        for c in ready:
            if all((c.line, c.modifiers, c.units, c.edits) != (o.line, o.modifiers, o.units, o.edits) for o in found):
                found.append(c)
    return found, missing


def _replacement(
    result: MatchResult, maps: Maps, record: ClaimRecord, rows: Sequence[MatchRow], control: int
) -> tuple[bytes | None, str | None, list[str]]:
    notes: list[str] = []
    corrections, missing = _corrections(rows)
    if missing:
        notes += [f"no replacement claim built: {m}" for m in missing]
        return None, None, notes
    claim = record.claim
    tx = claim.transaction
    edits: list[Edit] = []
    for c in corrections:
        if c.edits:
            edits.extend(c.edits)
            continue
        if c.line is None:
            continue
        line = claim.lines[c.line]
        if c.units is not None and claim.has_cob:
            notes.append(f"no replacement claim built: {c.description} would change a line of a claim with COB loops (2320/2430)")
            return None, None, notes
        try:
            if c.modifiers is not None:
                edit = modifier_edit(tx, line, c.modifiers)
                if edit is not None:
                    edits.append(edit)
            elif c.units == 0:
                edits.append(delete_line_edit(tx, line))
            elif c.units is not None:
                edits.extend(units_edits(tx, line, c.units))
        except ExtractError as error:
            notes.append(f"no replacement claim built: {error}")
            return None, None, notes
    if not edits:
        notes.append("no replacement claim built: the corrections change nothing on the claim")
        return None, None, notes
    profile = record.profile or maps.profile_for(claim.payer_id, claim.filing_indicator)
    if any(r.action == "new-claim" for r in rows):
        frequency, number = "1", None
    elif profile.correction_route == "reopening":
        # match turns these corrections into reopenings; a frequency-7 file never goes to such a payer
        notes.append("no replacement claim built: this payer takes corrections as a reopening request")
        return None, None, notes
    else:
        frequency = "1" if profile.correction_route == "new-claim" else profile.replacement_frequency
        number = result.latest_payer_claim_number(record) if frequency == "7" else None
        if frequency == "7" and not number:
            notes.append("no replacement claim built: no payer claim number (CLP07) to put in REF*F8")
            return None, None, notes
    try:
        data, skipped = build_claim_file(
            tx,
            claim,
            control=ControlNumbers(control, control, "0001"),
            edits=edits,
            frequency=frequency,
            payer_claim_number=number,
        )
    except ExtractError as error:
        notes.append(f"no replacement claim built: {error}")
        return None, None, notes
    if skipped:
        notes.append(f"{len(skipped)} overlapping edit(s) were not applied; review the replacement claim")
    return data, frequency, notes


# -- the letter ---------------------------------------------------------------------------------
_money = money_text  # two decimals, as match prints them


def _sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


#: A rule code of this project (U101, N301, C403 ...): the payer does not know them.
_RULE_CODE = re.compile(r"\b[UMNCXR]\d{3}\b")
_CHECK_FINDS = re.compile(r";?\s*check finds [A-Z0-9, ]+")
_OPTION_HINT = re.compile(r"\s*\([^()]*--[a-z][^()]*\)")
_LINE_PREFIX = re.compile(r"^lines? [\d, ]+:\s*", re.I)
_CHARGE_TO_SET = re.compile(r",? with the practice's charge for (\S+)")
#: the analysis names its evidence by the input it came from; the payer knows it as the record
_EVIDENCE_WORDS = (("the minutes file", "the treatment record's time log"),)


def _for_payer(text: str, payer_codes: Iterable[str] = ()) -> str:
    """``text`` from the analysis with what only the user needs taken out: the check's
    findings ("check finds M201"), option hints ("give --minutes ..."). A rule code left over
    (one that is not one of the payer's own remark codes) takes its clause with it."""
    text = _OPTION_HINT.sub("", _CHECK_FINDS.sub("", text))
    allowed = set(payer_codes)
    if any(m.group() not in allowed for m in _RULE_CODE.finditer(text)):
        text = "; ".join(part for part in text.split("; ") if all(m.group() in allowed for m in _RULE_CODE.finditer(part)))
    return text.strip()


def _change_words(description: str) -> str:
    """A correction's description as the letter's change: no "line N:" (the table has the
    line) and no instruction to the user about the charge."""
    text = _CHARGE_TO_SET.sub("", _LINE_PREFIX.sub("", description))
    for ours, theirs in _EVIDENCE_WORDS:
        text = text.replace(ours, theirs)
    return text


#: the letter's word for each request kind (the action names are this project's vocabulary)
_REQUEST_WORDS = {
    "appeal": "appeal",
    "reopening": "reopening",
    "corrected-claim": "corrected claim",
    "new-claim": "new claim",
    "bill-patient": "none",
    "write-off": "none",
    "none": "none",
}


def _line_label(row: MatchRow) -> str:
    lines = ", ".join(map(str, row.match.lines))
    return f"line {lines}" if lines else "the claim"


def _topic(row: MatchRow) -> str:
    """The key into :data:`SUPPORT` and :data:`CHECKLISTS` for a row."""
    if any(r.code == "MA130" for r in row.remarks):
        return "unprocessable"
    if row.category == "benefit-limit" and row.assessment.facts.get("limit") == "visit":
        return "visit-limit"
    if row.category == "units" and row.assessment.facts.get("unit_method") == "per-code":
        return "units-per-code"
    if row.category == "ncci-bundling" and row.assessment.facts.get("evaluation_pair"):
        return "ncci-evaluation"
    return row.category


def _support(row: MatchRow) -> list[str]:
    a = row.assessment
    out = list(SUPPORT.get(_topic(row), ()))
    facts = a.facts
    if a.category == "ncci-bundling" and "column1" in facts:
        out.insert(
            0,
            f"The edit in question: {facts['column1']} (column 1) with {facts['column2']} (column 2), modifier "
            f"indicator {facts['modifier_indicator']} ({_edit_source(str(facts['edit_source']))}).",
        )
        blocks = facts.get("time_blocks")
        if isinstance(blocks, dict) and blocks and not facts.get("evaluation_pair"):
            out.append("The record places " + " and ".join(f"line {lx} in time block {b}" for lx, b in blocks.items()) + ".")
    if a.category == "units" and "day_minutes" in facts:
        services = "; ".join(
            f"{d['service']} {d['minutes']} minutes, {_units(d['units'])}" for d in facts.get("day_services", ())  # type: ignore[union-attr]
        )
        lines = _lines_words(list(facts.get("day_lines", ())))  # type: ignore[call-overload]
        if facts.get("unit_method") == "per-code":
            out.append(f"The record shows these timed minutes for the date of service ({lines}): {services}.")
        else:
            out.append(
                f"The record shows {facts['day_minutes']} timed minutes for the date of service ({lines}: {services}). "
                f"Under the total-minutes method these minutes allow {_units(facts['day_units_allowed'])} for the day; "  # type: ignore[arg-type]
                f"{_units(facts['day_units_billed'])} {'was' if facts['day_units_billed'] == 1 else 'were'} billed."  # type: ignore[arg-type]
            )
            if facts.get("pooled") and row.action == "appeal":
                out.append(
                    "§20.2 Example 3 is this case: 33 minutes of 97110 and 7 minutes of 97140 make 40 timed minutes, "
                    "billed as 3 units (2 of 97110 and 1 of 97140), although 97140 alone took fewer than 8 minutes."
                )
    return out


def _units(n: object) -> str:
    return f"{n} unit" if n == 1 else f"{n} units"


def _request_kind(row: MatchRow) -> str:
    """The row's action, with a correction sent as a clerical-error reopening (a payer whose
    correction route is ``reopening``: Medicare Part B) told apart from a plain reprocess request."""
    if row.action == "reopening" and row.assessment.facts.get("correction_route") == "reopening":
        return "reopening-correction"
    return row.action


def _level_facts(kind: str, level: AppealLevel | None, profile: PayerProfile | None, decided: date | None) -> list[tuple[str, str]]:
    """What the request is (appeal level, form) and the date to file it by, counted from the
    remittance date (the payer's decision) with the days in ``maps/payers.xml``."""
    if kind == "appeal" and level is not None:
        what = f"{level.name} (first level of appeal)" + (f", form {level.form}" if level.form else "")
        days = level.days
    elif kind == "reopening-correction" and profile is not None:
        what, days = "clerical-error reopening", profile.correction_days
    else:
        return []
    out = [("Request", what)]
    if days is not None and decided is not None:
        out.append(("File by", f"{(decided + timedelta(days=days)).isoformat()} ({days} days from the remittance date)"))
    return out


def _edit_source(source: str) -> str:
    if source == "ncci-ptp.xml":
        return "NCCI procedure-to-procedure edits"
    return f"CMS NCCI PTP file {source}"


def _letter(
    result: MatchResult,
    record: ClaimRecord | None,
    rows: Sequence[MatchRow],
    open_rows: Sequence[MatchRow],
    today: date,
    frequency: str | None,
    has_replacement: bool,
    notes: Sequence[str],
    profile: PayerProfile | None = None,
    practice: Practice = Practice(),
) -> tuple[list[Block], list[str], list[str]]:
    """The letter's blocks, what the user must do before sending it, and the documents to
    gather (both for the checklist file): the letter speaks to the payer only."""
    first = open_rows[0]
    remit = first.remit
    claim = record.claim if record else None
    claim_id = claim.claim_id if claim else first.remit_claim_id
    icn = result.latest_payer_claim_number(record) if record else first.payer_claim_number
    actions = list(dict.fromkeys(_request_kind(r) for r in open_rows if r.action in SENDING))
    level = profile.appeal_levels[0] if profile is not None and profile.appeal_levels else None
    todo: list[str] = ["Check every statement of the letter against the medical record before sending it."]
    # the heading is the kind's template's (edi_rehab/templates/<kind>.j2)
    blocks = [Block("p", f"Date: {today.isoformat()}")]
    address = [remit.payer_name or "[payer name]", *(remit.payer_address or ("[payer address]",))]
    if not remit.payer_name or not remit.payer_address:
        todo.append("Write the payer's appeal address in the letter ([payer name], [payer address]): the remittance does not give it; the payer's appeal address may differ from its remittance address anyway.")
    else:
        todo.append("Check that the address is where this payer takes appeals and reopenings: the letter uses the remittance's payer address.")
    blocks.append(Block("lines", items=tuple(address)))
    facts: list[tuple[str, str]] = []
    if remit.payer_id:
        facts.append(("Payer id", remit.payer_id))
    if claim is not None and claim.billing_provider is not None:
        facts.append(("From", f"{claim.billing_provider.name}, NPI {claim.billing_provider.id}"))
    who = (claim.patient or claim.subscriber) if claim is not None else None
    if who is not None:
        facts.append(("Patient", who.name))
        if claim.subscriber is not None and claim.subscriber.id:
            facts.append(("Member id", claim.subscriber.id))
    facts.append(("Patient account number", claim_id))
    if icn:
        facts.append(("Payer claim number", icn))
    if remit.trace_number:
        facts.append(("Payment trace number", remit.trace_number))
    if remit.payment_date:
        facts.append(("Remittance date", remit.payment_date.isoformat()))
    if claim is not None:
        dates = sorted({line.service_date.start for line in claim.lines if line.service_date and line.service_date.start})
        if dates:
            span = dates[0].isoformat() if len(dates) == 1 else f"{dates[0].isoformat()} to {dates[-1].isoformat()}"
            facts.append(("Dates of service", span))
        facts.append(("Claim charge", _money(claim.charge) if claim.charge is not None else claim.charge_raw))
    facts += _level_facts(actions[0], level, profile, remit.payment_date)
    blocks.append(Block("facts", items=tuple(facts)))
    blocks.append(Block("p", "Dear Sir or Madam,"))

    blocks.append(Block("h2", "Request"))
    by_action: dict[str, list[int]] = {}
    for row in open_rows:
        kind = _request_kind(row)
        by_action.setdefault(kind, []).extend(n for n in row.match.lines if n not in by_action.get(kind, []))
    for action in actions:
        text = _REQUESTS[action].format(lines=_lines_words(by_action.get(action, [])))
        if action in ("corrected-claim", "new-claim") and has_replacement:
            if frequency == "7":
                text += f" It replaces payer claim number {icn} (claim frequency code 7)."
            elif action == "corrected-claim":
                text += " It is sent as a new claim (claim frequency code 1), as your instructions ask."
        elif action in ("corrected-claim", "new-claim"):
            text = text.replace("is enclosed", "will follow")
        blocks.append(Block("p", text))
    others = [n for a in ("appeal", "reopening") for n in by_action.get(a, [])]
    if has_replacement and others:
        blocks.append(
            Block(
                "p",
                f"The enclosed claim replaces the whole claim, so {_lines_words(others)} "
                f"{'is' if len(others) == 1 else 'are'} submitted again with it; "
                "should they be denied again, the request above for them stands.",
            )
        )

    table = []
    for row in open_rows:
        table.append(
            (
                ", ".join(map(str, row.match.lines)) or "-",
                row.procedure or "-",
                " ".join(row.modifiers) or "-",
                row.service_date or "-",
                str(row.units_billed) if row.units_billed is not None else "-",
                _money(row.charge),
                _money(row.paid),
                " ".join(a.label for a in row.adjustments if a.is_denial) or "-",
                # an appeal is the payer's own first level (Medicare: a redetermination;
                # reconsideration is Medicare's second level), not one word for every payer
                level.name if level is not None and _request_kind(row) == "appeal"
                else _REQUEST_WORDS.get(_request_kind(row), "clerical-error reopening"),
            )
        )
    changes = []
    for row in open_rows:
        if _request_kind(row) != "reopening-correction":
            continue
        where = ", ".join(map(str, row.match.lines)) or "-"
        wanted = [c.description for c in row.assessment.corrections] or [row.assessment.fix]
        for description in wanted:
            change = _change_words(_for_payer(description or "", [r.code for r in row.remarks]))
            if not change:
                todo.append(f"Line {where}: write the change to request in the letter's Changes requested table ([change]).")
            changes.append((where, row.procedure or "-", change or "[change]"))
    changes = list(dict.fromkeys(changes))
    if changes:
        blocks.append(Block("h2", "Changes requested"))
        blocks.append(Block("table", items=tuple(changes), header=("Line", "Procedure", "Change")))
    blocks.append(Block("h2", "Lines in question"))
    blocks.append(Block("table", items=tuple(table), header=("Line", "Procedure", "Modifiers", "Date", "Units", "Charge", "Paid", "Denial", "Request")))

    for row in open_rows:
        a = row.assessment
        label = _line_label(row).capitalize()
        payer_codes = [r.code for r in row.remarks]
        title = f"{label}: {row.procedure or 'claim'}"
        if row.service_date:
            title += f" on {row.service_date}"
        blocks.append(Block("h2", title))
        # Only what took money: the contract write-off (CO-45), the patient's share (PR-2)
        # and amounts given back are not reasons for a denial.
        reasons = []
        for x in row.adjustments:
            if x.is_denial:
                reasons.append(f"{x.group}-{x.carc}: {x.to_json()['text']}" if x.known else f"{x.group}-{x.carc}")
                if not x.known:
                    todo.append(f"{label}: CARC {x.carc} is not in the code list; load the official list with --carc-file, or write its meaning in the letter.")
        for r in row.remarks:
            reasons.append(f"Remark {r.code}: {r.to_json()['text']}" if r.known else f"Remark {r.code}")
            if not r.known:
                todo.append(f"{label}: RARC {r.code} is not in the code list; load the official list with --rarc-file, or write its meaning in the letter.")
        blocks.append(Block("h3", "Why the payer denied it"))
        blocks.append(Block("ul", items=tuple(reasons) or ("No adjustment code on the remittance explains the reduction.",)))
        cause = _sentence(_for_payer(a.cause, payer_codes))
        if cause:
            blocks.append(Block("h3", "Our review"))
            blocks.append(Block("p", cause))
        if a.fix:
            todo.append(f"{label}: what resolves it: {_sentence(_LINE_PREFIX.sub('', a.fix))}")
        if a.findings and record is not None:
            found = []
            for i in row.match.indexes:
                found += [f"{f.code}: {f.message}" for f in record.findings_on(i) if f.code in a.findings]
            found += [f"{f.code}: {f.message}" for f in record.claim_findings if f.code in a.findings]
            todo += [f"{label}: check found {item}" for item in dict.fromkeys(found)]
        for c in a.corrections:
            charge = _CHARGE_TO_SET.search(c.description)
            if charge:
                todo.append(f"{label}: set the practice's charge for {charge.group(1)} on the line before sending.")
        if row.action in ("corrected-claim", "new-claim"):
            ready = [_change_words(c.description) for c in a.corrections if c.ready]
            if ready:
                blocks.append(Block("h3", "Correction"))
                prefix = "Applied in the enclosed claim: " if has_replacement else ""
                blocks.append(Block("ul", items=tuple(prefix + d for d in ready)))
        support = _support(row)
        if row.assessment.facts.get("edit_source") == "ncci-ptp.xml":
            todo.append(f"{label}: confirm the NCCI edit in the CMS PTP file in force on the date of service (the pair was found in edi-rehab's bundled NCCI list).")
        if support:
            blocks.append(Block("h3", "Rule and source supporting the billing"))
            blocks.append(Block("ul", items=tuple(_for_payer(s, payer_codes) for s in support)))

    keys = []
    for row in open_rows:
        key = _topic(row)
        if key not in keys:
            keys.append(key)
    gather = list(dict.fromkeys(item for key in keys for item in CHECKLISTS.get(key, CHECKLISTS["other"])))
    todo.append("List the documents you enclose in the letter's Enclosures ([documents enclosed]).")
    enclosures = []
    if has_replacement:
        enclosures.append("The corrected claim, sent electronically" if frequency == "7" else "The new claim, sent electronically")
    enclosures.append("Supporting records: [documents enclosed]")
    blocks.append(Block("h2", "Enclosures"))
    blocks.append(Block("ul", items=tuple(enclosures)))
    todo += [_sentence(n) for n in notes]
    blocks.append(Block("p", "Sincerely,"))
    signature, missing = _signature(practice)
    blocks.append(Block("lines", items=signature))
    if missing:
        todo.append(f"Fill in the signature block ({', '.join(missing)}), or set them once in the config's [practice] table (name, npi, contact, signer).")
    return blocks, list(dict.fromkeys(todo)), gather


def _signature(practice: Practice) -> tuple[tuple[str, ...], list[str]]:
    """The signature lines from ``[practice]``, a placeholder for each key it lacks, and the placeholders."""
    parts = (
        (practice.signer, "", "[signer name and title]"),
        (practice.name, "", "[practice name]"),
        (practice.npi, "NPI ", "[practice NPI]"),
        (practice.contact, "", "[practice contact]"),
    )
    lines = tuple(label + (value or placeholder) for value, label, placeholder in parts)
    return lines, [placeholder for value, _, placeholder in parts if not value]


def checklist_blocks(claim_id: str, todo: Sequence[str], gather: Sequence[str]) -> list[Block]:
    """The checklist file beside the letter: what the user does before sending it."""
    blocks = [Block("h1", f"Before sending the letter for claim {claim_id}"), Block("checklist", items=tuple(todo))]
    if gather:
        blocks += [Block("h2", "Documents to gather and enclose"), Block("checklist", items=tuple(gather))]
    return blocks


class PdfUnavailable(Exception):
    """PDF letters need WeasyPrint (``pip install 'edi-rehab[pdf]'``) and its Pango library."""


def _no_fetching(url: str, *args, **kwargs):
    # A letter is self-contained; nothing it names may be fetched (no network, no local files).
    raise ValueError(f"letters load no resources ({url[:40]})")


def _weasyprint():
    try:
        import weasyprint
    except (ImportError, OSError) as error:  # OSError: Pango or its fonts missing
        raise PdfUnavailable(f"PDF letters need WeasyPrint: pip install 'edi-rehab[pdf]' ({error})") from None
    return weasyprint


def require_pdf() -> None:
    """Raise :class:`PdfUnavailable` now, before any work, when PDFs cannot be drawn."""
    _weasyprint()


def letter_pdf(html: str) -> bytes:
    """The letter's HTML as a PDF, drawn by WeasyPrint (no browser). Raises
    :class:`PdfUnavailable` when WeasyPrint or the system libraries it needs are missing."""
    return _weasyprint().HTML(string=html, url_fetcher=_no_fetching).write_pdf()

