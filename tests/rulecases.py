"""Rule cases as data: each case is claims (built with :mod:`claimkit`), optional minutes and
options, and what the rule under test must do. The case id names the rule:
``U101::fail_cms_ex3_billed_3_and_1`` must fire U101, ``U101::pass_...`` must not.

Tables live in ``tests/cases/rules/<family>.py`` as ``CASES = [fail(...), ok(...), ...]``;
``tests/test_rules_<family>.py`` runs them and ``tests/test_registry.py`` checks that every
registered code has at least one fail and one pass case.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import edi_rehab
from claimkit import ClaimSpec, x12
from edi_rehab.findings import Finding

CASE_DIR = Path(__file__).parent / "cases" / "rules"
FAMILIES = ("units", "modifiers", "ncci", "claims", "envelope")


@dataclass
class Case:
    id: str
    claims: tuple[ClaimSpec, ...] | bytes
    minutes: str | None = None
    options: dict = field(default_factory=dict)
    #: fail cases: how many findings of the code (None: at least one)
    count: int | None = None
    #: fail cases: (claim id, LX) of each finding of the code, in order (None: not checked)
    at: list[tuple[str | None, int | None]] | None = None
    #: fail cases: the severity ("error", "warning", "info") of every finding of the code (None: not checked)
    severity: str | None = None
    #: pass cases: no finding at all (apart from codes in ``allow``)
    clean: bool = False
    allow: tuple[str, ...] = ()
    #: every case: codes that must also fire
    also: tuple[str, ...] = ()
    #: transactions, when the claims are spread over several ST..SE
    transactions: list[list[ClaimSpec]] | None = None

    @property
    def code(self) -> str:
        return self.id.split("::", 1)[0]

    @property
    def fires(self) -> bool:
        return self.id.split("::", 1)[1].startswith("fail")

    def data(self) -> bytes:
        if isinstance(self.claims, bytes):
            return self.claims
        if self.transactions is not None:
            return x12(transactions=self.transactions)
        return x12(*self.claims)

    def run(self) -> list[Finding]:
        return edi_rehab.check(self.data(), minutes=self.minutes, **self.options)


def fail(
    id: str, *claims, minutes=None, count=None, at=None, severity=None, also=(), transactions=None, data=None, **options
) -> Case:
    assert "::fail" in id, id
    return Case(
        id, data if data is not None else claims, minutes, options, count, at, severity, also=tuple(also),
        transactions=transactions,
    )


def ok(id: str, *claims, minutes=None, clean=False, allow=(), also=(), transactions=None, data=None, **options) -> Case:
    assert "::pass" in id, id
    return Case(
        id, data if data is not None else claims, minutes, options, clean=clean, allow=tuple(allow), also=tuple(also),
        transactions=transactions,
    )


def load_family(family: str) -> list[Case]:
    path = CASE_DIR / f"{family}.py"
    spec = importlib.util.spec_from_file_location(f"rule_cases_{family}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.CASES)


def all_cases() -> list[Case]:
    return [case for family in FAMILIES for case in load_family(family)]


def verify(case: Case) -> None:
    """Run one case and assert what it says."""
    findings = case.run()
    codes = [f.code for f in findings]
    mine = [f for f in findings if f.code == case.code]
    shown = "\n".join(f"  {f.segment} {f.code} {f.message} [{f.claim_id} {f.line}]" for f in findings)
    if case.fires:
        assert mine, f"{case.id}: {case.code} did not fire; findings:\n{shown}"
        if case.count is not None:
            assert len(mine) == case.count, f"{case.id}: {len(mine)} findings of {case.code}, expected {case.count}:\n{shown}"
        if case.at is not None:
            assert [(f.claim_id, f.line) for f in mine] == case.at, f"{case.id}: wrong place:\n{shown}"
        if case.severity is not None:
            assert {f.severity.value for f in mine} == {case.severity}, f"{case.id}: expected {case.severity}:\n{shown}"
    else:
        assert not mine, f"{case.id}: {case.code} fired:\n{shown}"
        if case.clean:
            extra = [c for c in codes if c not in case.allow]
            assert not extra, f"{case.id}: expected a clean claim, got:\n{shown}"
    for code in case.also:
        assert code in codes, f"{case.id}: {code} should fire too:\n{shown}"
