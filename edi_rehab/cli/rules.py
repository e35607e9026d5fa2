"""`edi-rehab rule CODE` and `edi-rehab rules`: the rule documentation."""

from __future__ import annotations

import sys

import click

from .output import EXIT_UNREADABLE, fail


@click.command("rule")
@click.argument("code")
def rule(code: str) -> None:
    """Print the documentation of one rule (e.g. edi-rehab rule U101, or rule IG for the
    implementation-guide findings of check --validate)."""
    from .. import ig
    from ..rules import registry

    if ig.is_ig_code(code):
        click.echo(ig.DOC, nl=False)
        return
    found = registry.get(code)
    if found is not None:
        fix = f"{found.fix.value} fix" if found.fix else "no fix"
        click.echo(f"{found.code} {found.name} ({found.severity.value}, {fix})\n")
        click.echo(found.doc)
        return
    # Not a check rule: the codes match and the ledger add, whose modules (the 835 reader,
    # the ledger's) are imported only for them.
    from ..match import MISSING_KX, MISSING_KX_DOC

    if code.strip().upper() == MISSING_KX:
        click.echo(f"{MISSING_KX} benefit-limit-without-kx (match only, no fix)\n")
        click.echo(MISSING_KX_DOC, nl=False)
        return
    from ..ledger.history import DUPLICATE, DUPLICATE_DOC, DUPLICATE_NAME

    if code.strip().upper() == DUPLICATE:
        click.echo(f"{DUPLICATE} {DUPLICATE_NAME} (error, no fix; check with --ledger only)\n")
        click.echo(DUPLICATE_DOC, nl=False)
        return
    import difflib

    matches = registry.matching(code) or tuple(
        registry.BY_CODE[c] for c in difflib.get_close_matches(code.strip().upper(), registry.CODES, n=3)
    )
    hint = f"; did you mean {', '.join(r.code for r in matches[:8])}?" if matches else "; see `edi-rehab rules`"
    fail(f"no rule {code!r}{hint}")
    sys.exit(EXIT_UNREADABLE)


@click.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules(output_format: str) -> None:
    """List every rule: code, default severity, fix, name and summary; last, the IG family
    that check --validate adds (implementation-guide errors from pyx12) and R501, the cause
    only match can name (a 119 denial on a line without KX)."""
    from .. import ig
    from ..rules import registry

    from ..ledger.history import explanation_json as ledger_json
    from ..match import explanation_json

    if output_format == "json":
        import json

        document = {
            "rules": [r.to_json() for r in registry.RULES],
            "families": [ig.family_json()],
            "remittance": [explanation_json()],
            "ledger": [ledger_json()],
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    for r in registry.RULES:
        fix = r.fix.value if r.fix else "-"
        click.echo(f"{r.code}  {r.severity.value:<7}  {fix:<6}  {r.name:<34}  {r.summary}")
    for extra in (ig.family_json(), explanation_json(), ledger_json()):
        click.echo(f"{extra['code']:<4}  {extra['severity']:<7}  {'-':<6}  {extra['name']:<34}  {extra['summary']}")
