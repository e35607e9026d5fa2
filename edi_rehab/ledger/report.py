"""``edi-rehab report``: what the ledger's history teaches, as numbers and as renderings.

The unit is an 837P service line that an 835 answered (a match row pointing at a recorded
line); when several 835s answered one line (a reversal and its correction, a crossover), the
last one recorded counts. A line is *denied* as match judges it (an adjustment other than
the contract write-off or the patient's share lowered its payment).

* **Denial rate** by payer (the 837 claim's payer id), procedure code and rule: denied lines
  over answered lines. By CARC: the denied lines carrying that group and reason code, and
  their share of all denied lines (a line may carry several).
* **Precision of a rule**: of the answered lines sent with the rule's finding (a claim-level
  finding counts for each line of its claim), the share denied *for that cause*: in a
  category whose explaining rules include it (``edi_rehab.match.EXPLAINING_RULES``, the same
  table match uses to name the findings behind a denial). It measures how often a finding
  is what the payer then denied, which no scrubber publishes; a low precision says the rule
  flags what this payer pays anyway.
* **Money at stake** by category: charge minus payment of the denied lines.

``--since DATE`` keeps the lines whose date of service is on or after DATE.

:func:`gather` reads the ledger (one pass per table, aggregated in Python so the numbers are
the same on SQLite and PostgreSQL); the renderers are pure: :func:`render_text`,
:func:`render_json`, :func:`render_csv` and :func:`render_html` (one self-contained file,
charts drawn by pygal as inline SVG, no script and no network reference).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = ["Group", "LedgerReport", "RulePrecision", "gather", "render_csv", "render_html", "render_json", "render_text"]


@dataclass
class Group:
    """Answered and denied lines of one payer, code, rule or CARC, and the money they lost."""

    key: str
    lines: int = 0
    denied: int = 0
    at_stake_cents: int = 0

    @property
    def rate(self) -> float:
        return self.denied / self.lines if self.lines else 0.0

    def to_json(self) -> dict:
        return {"key": self.key, "lines": self.lines, "denied": self.denied, "denial_rate": round(self.rate, 4),
                "at_stake": _money(self.at_stake_cents)}


@dataclass
class RulePrecision:
    rule: str
    sent: int = 0
    denied: int = 0
    denied_for_cause: int = 0

    @property
    def precision(self) -> float:
        return self.denied_for_cause / self.sent if self.sent else 0.0

    def to_json(self) -> dict:
        return {"rule": self.rule, "lines_sent": self.sent, "denied": self.denied, "denied_for_cause": self.denied_for_cause,
                "precision": round(self.precision, 4)}


@dataclass
class LedgerReport:
    since: date | None
    lines: int = 0
    denied: int = 0
    at_stake_cents: int = 0
    #: recorded 835 service payments that match found no 837 line for
    unmatched: int = 0
    by_payer: list[Group] = field(default_factory=list)
    by_carc: list[Group] = field(default_factory=list)
    by_code: list[Group] = field(default_factory=list)
    by_rule: list[RulePrecision] = field(default_factory=list)
    at_stake: list[Group] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.denied / self.lines if self.lines else 0.0

    def to_json(self) -> dict:
        return {
            "since": self.since.isoformat() if self.since else None,
            "lines": self.lines,
            "denied": self.denied,
            "denial_rate": round(self.rate, 4),
            "at_stake": _money(self.at_stake_cents),
            "unmatched_payments": self.unmatched,
            "by_payer": [g.to_json() for g in self.by_payer],
            # for a CARC, "lines" is the denied lines carrying it and "denial_rate" their share of every denial
            "by_carc": [g.to_json() for g in self.by_carc],
            "by_code": [g.to_json() for g in self.by_code],
            "by_rule": [r.to_json() for r in self.by_rule],
            "at_stake_by_category": [g.to_json() for g in self.at_stake],
        }


def _money(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def gather(conn, since: date | None = None) -> LedgerReport:
    """The report over everything recorded (lines dated on or after ``since``)."""
    from sqlalchemy import func, select

    from ..match import EXPLAINING_RULES
    from . import schema as s

    latest = (
        select(func.max(s.matches.c.id))
        .where(s.matches.c.line_id.is_not(None), s.matches.c.service_payment_id.is_not(None))
        .group_by(s.matches.c.line_id)
    )
    query = (
        select(
            s.matches.c.line_id, s.matches.c.claim_id, s.matches.c.service_payment_id, s.matches.c.denied,
            s.matches.c.category, s.matches.c.charge_cents, s.matches.c.paid_cents,
            s.claims.c.payer_id, s.lines.c.procedure, s.lines.c.service_date,
        )
        .join(s.lines, s.lines.c.id == s.matches.c.line_id)
        .join(s.claims, s.claims.c.id == s.lines.c.claim_id)
        .where(s.matches.c.id.in_(latest))
    )
    if since is not None:
        query = query.where(s.lines.c.service_date >= since)
    answered = conn.execute(query).all()
    report = LedgerReport(since)
    unmatched = select(func.count()).select_from(s.matches).where(
        s.matches.c.line_id.is_(None), s.matches.c.service_payment_id.is_not(None)
    )
    report.unmatched = conn.execute(unmatched).scalar_one()

    payers: dict[str, Group] = {}
    codes: dict[str, Group] = {}
    categories: dict[str, Group] = {}
    line_of_payment: dict[int, tuple] = {}
    lines_of_claim: dict[int, list] = defaultdict(list)
    for row in answered:
        lost = max((row.charge_cents or 0) - (row.paid_cents or 0), 0) if row.denied else 0
        report.lines += 1
        for table, key in ((payers, row.payer_id or "?"), (codes, row.procedure or "?")):
            group = table.setdefault(key, Group(key))
            group.lines += 1
            group.denied += row.denied
            group.at_stake_cents += lost
        if row.denied:
            report.denied += 1
            report.at_stake_cents += lost
            group = categories.setdefault(row.category, Group(row.category))
            group.lines += 1
            group.denied += 1
            group.at_stake_cents += lost
        line_of_payment[row.service_payment_id] = row
        lines_of_claim[row.claim_id].append(row)

    # CARCs of the denied lines: for each, how many denied lines carry it (its share of the
    # denials is Group.rate, with every denied line as the whole) and the amount it adjusted
    with_it: Counter = Counter()
    adjusted: Counter = Counter()
    denied_payments = [pid for pid, row in line_of_payment.items() if row.denied]
    for chunk in s.in_batches(denied_payments):
        seen: set[tuple[int, str]] = set()
        for payment, group_code, reason, amount in conn.execute(
            select(s.adjustments.c.service_payment_id, s.adjustments.c.group_code, s.adjustments.c.reason, s.adjustments.c.amount_cents)
            .where(s.adjustments.c.service_payment_id.in_(chunk))
        ):
            if group_code == "PR" or (group_code == "CO" and reason == "45"):
                continue  # the patient's share and the contract write-off are not why a line was denied
            key = f"{group_code}-{reason}"
            if (payment, key) not in seen:
                seen.add((payment, key))
                with_it[key] += 1
            adjusted[key] += amount or 0
    carcs = {key: Group(key, report.denied, count, adjusted[key]) for key, count in with_it.items()}

    # findings on the answered lines (and on their claims)
    rules: dict[str, RulePrecision] = {}
    answered_lines = {row.line_id: row for row in answered}
    findings_by_line: dict[int, set[str]] = defaultdict(set)
    for chunk in s.in_batches(sorted({row.claim_id for row in answered})):
        for claim_id, line_id, code in conn.execute(
            select(s.findings.c.claim_id, s.findings.c.line_id, s.findings.c.code).where(s.findings.c.claim_id.in_(chunk))
        ):
            targets = [line_id] if line_id is not None else [r.line_id for r in lines_of_claim.get(claim_id, [])]
            for target in targets:
                if target in answered_lines:
                    findings_by_line[target].add(code)
    for line_id, found in findings_by_line.items():
        row = answered_lines[line_id]
        for code in found:
            item = rules.setdefault(code, RulePrecision(code))
            item.sent += 1
            item.denied += row.denied
            item.denied_for_cause += bool(row.denied and code in EXPLAINING_RULES.get(row.category, ()))

    report.by_payer = sorted(payers.values(), key=lambda g: (-g.rate, g.key))
    report.by_code = sorted(codes.values(), key=lambda g: (-g.denied, g.key))
    report.by_carc = sorted(carcs.values(), key=lambda g: (-g.denied, g.key))
    report.by_rule = sorted(rules.values(), key=lambda r: (-r.sent, r.rule))
    report.at_stake = sorted(categories.values(), key=lambda g: (-g.at_stake_cents, g.key))
    return report


# --------------------------------------------------------------------------------------------
# Renderings
# --------------------------------------------------------------------------------------------


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    for row in rows:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return out


def _sections(report: LedgerReport) -> list[tuple[str, list[str], list[list[str]]]]:
    def groups(items: list[Group]) -> list[list[str]]:
        return [[g.key, str(g.lines), str(g.denied), _percent(g.rate), _money(g.at_stake_cents)] for g in items]

    return [
        ("Denial rate by payer", ["payer", "lines", "denied", "rate", "at stake"], groups(report.by_payer)),
        ("Denials by CARC (share of all denied lines)", ["CARC", "denied", "with it", "share", "adjusted"], groups(report.by_carc)),
        ("Denial rate by procedure code", ["code", "lines", "denied", "rate", "at stake"], groups(report.by_code)),
        (
            "Rule precision: lines sent with the finding, denied for that cause",
            ["rule", "sent", "denied", "for cause", "precision"],
            [[r.rule, str(r.sent), str(r.denied), str(r.denied_for_cause), _percent(r.precision)] for r in report.by_rule],
        ),
        ("Money at stake by category", ["category", "lines", "denied", "rate", "at stake"], groups(report.at_stake)),
    ]


def _headline(report: LedgerReport) -> str:
    since = f" since {report.since.isoformat()}" if report.since else ""
    return (
        f"{report.lines} answered lines{since}: {report.denied} denied ({_percent(report.rate)}), "
        f"{_money(report.at_stake_cents)} at stake; {report.unmatched} payments matched no recorded line."
    )


def render_text(report: LedgerReport) -> list[str]:
    out = [_headline(report)]
    for title, header, rows in _sections(report):
        out += ["", title]
        out += _table(header, rows) if rows else ["  (none)"]
    return out


def render_json(report: LedgerReport) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"


def render_csv(report: LedgerReport) -> str:
    """One row per group: section, key, lines, denied, rate, at stake (precision rows carry
    sent, denied, denied for cause and the precision)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["section", "key", "lines", "denied", "rate", "amount", "denied_for_cause", "precision"])
    writer.writerow(["total", "all", report.lines, report.denied, f"{report.rate:.4f}", _money(report.at_stake_cents), "", ""])
    for section, items in (("payer", report.by_payer), ("carc", report.by_carc), ("code", report.by_code), ("category", report.at_stake)):
        for g in items:
            writer.writerow([section, g.key, g.lines, g.denied, f"{g.rate:.4f}", _money(g.at_stake_cents), "", ""])
    for r in report.by_rule:
        writer.writerow(["rule", r.rule, r.sent, r.denied, f"{(r.denied / r.sent if r.sent else 0):.4f}", "", r.denied_for_cause, f"{r.precision:.4f}"])
    return buffer.getvalue()


def _chart_svg(kind: str, title: str, values: list[tuple[str, float]], *, percent: bool) -> str:
    """An inline SVG chart, with pygal's scripts left out (no network, nothing to run)."""
    import pygal
    from pygal.style import CleanStyle

    config = pygal.Config()
    config.js = []
    config.disable_xml_declaration = True
    config.style = CleanStyle
    config.width, config.height = 720, 320
    config.show_legend = kind == "pie"
    config.title = title
    if kind == "pie":
        chart = pygal.Pie(config)
        for label, value in values:
            chart.add(label, value)
    else:
        chart = pygal.HorizontalBar(config)
        chart.x_labels = [label for label, _value in values]
        chart.add(title, [round(100 * v, 1) if percent else v for _label, v in values])
        if percent:
            chart.range = (0, 100)
    # pygal puts its tooltip configuration in a <script> for pygal.js, which is not loaded
    # here; without the script the file holds nothing to run and names nothing to fetch.
    return re.sub(r"<script\b.*?</script>", "", chart.render(is_unicode=True), flags=re.S)


NUMBER = ' class="n"'


def render_html(report: LedgerReport) -> str:
    """One self-contained HTML file: the headline, three charts and every table."""
    charts = []
    if report.by_payer:
        charts.append(_chart_svg("bar", "Denial rate by payer (%)", [(g.key, g.rate) for g in report.by_payer[:20]], percent=True))
    if report.by_rule:
        charts.append(_chart_svg("bar", "Rule precision (%)", [(r.rule, r.precision) for r in report.by_rule[:25]], percent=True))
    if report.at_stake:
        charts.append(_chart_svg("pie", "Money at stake by category", [(g.key, g.at_stake_cents / 100) for g in report.at_stake], percent=False))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Claim ledger report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;margin:1em 0}"
        "th,td{border:1px solid #ccc;padding:.2em .6em}td.n{text-align:right}figure{margin:1em 0}</style>",
        "</head><body>",
        "<h1>Claim ledger report</h1>",
        f'<p id="headline">{html.escape(_headline(report))}</p>',
    ]
    parts += [f'<figure class="chart">{svg}</figure>' for svg in charts]
    for title, header, rows in _sections(report):
        parts.append(f"<h2>{html.escape(title)}</h2>")
        if not rows:
            parts.append("<p>None.</p>")
            continue
        parts.append("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead><tbody>")
        for row in rows:
            cells = "".join(f"<td{NUMBER if i else ''}>{html.escape(c)}</td>" for i, c in enumerate(row))
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
