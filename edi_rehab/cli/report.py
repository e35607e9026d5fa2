"""`edi-rehab report`: denial rates, rule precision and money at stake from the claim ledger."""

from __future__ import annotations

import sys

import click

from .config_file import CONFIG, ISOLATED, ConfigChoice
from .options import LEDGER_OPTION
from .output import EXIT_OK, EXIT_UNREADABLE, fail


@click.command("report")
@LEDGER_OPTION
@click.option("--since", metavar="YYYY-MM-DD", help="Only lines with a date of service on or after this day.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv", "html"]), default="text", show_default=True,
              help="html: one self-contained file with charts (no script, no network).")
@click.option("-o", "--output", metavar="PATH", help="Write the report to PATH (atomically) instead of standard output.")
@CONFIG
@ISOLATED
def report_command(ledger_url: str | None, since: str | None, output_format: str, output: str | None, config_path: ConfigChoice) -> None:
    """Report what the ledger's history teaches: denial rate by payer, CARC, procedure code
    and rule; for each rule, how often a line sent with its finding was denied for that
    cause (its precision against real payer behaviour); and the money at stake by denial
    category. The lines counted are the 837P lines recorded by check (or split, fix, match)
    that a recorded 835 answered (match --ledger). Exit 0, or 2 when the ledger cannot be
    read or no ledger was named (--ledger, or ledger in the config: --config or the one found
    from the working directory up).
    """
    from datetime import date

    from .files import InputProblem, read_text, write_atomically
    from .ledger import open_ledger, stop

    try:
        day = date.fromisoformat(since) if since else None
    except ValueError:
        fail(f"--since {since!r} is not a date (YYYY-MM-DD)")
        sys.exit(EXIT_UNREADABLE)
    config = None
    if config_path.path is not None:
        from ..config import ConfigError, parse_config

        try:
            config = parse_config(read_text(config_path.path), config_path.source, config_path.table)
        except (InputProblem, ConfigError) as problem:
            fail(str(problem))
            sys.exit(EXIT_UNREADABLE)
    if ledger_url is None and getattr(config, "ledger", None) is None:
        fail("report reads the claim ledger: give --ledger URL (or --ledger alone for the default one, or a --config naming it)")
        sys.exit(EXIT_UNREADABLE)
    ledger = open_ledger(ledger_url, config)
    from ..ledger.report import gather, render_csv, render_html, render_json, render_text
    from ..ledger.store import LedgerError

    try:
        report = ledger.query(lambda conn: gather(conn, day))
    except LedgerError as problem:
        stop(problem)
    finally:
        ledger.close()
    if output_format == "json":
        document = render_json(report)
    elif output_format == "csv":
        document = render_csv(report)
    elif output_format == "html":
        document = render_html(report)
    else:
        document = "\n".join(render_text(report)) + "\n"
    if output:
        try:
            write_atomically(output, document.encode("utf-8"))
        except OSError as error:
            fail(f"{output}: cannot write: {error.strerror or error}")
            sys.exit(EXIT_UNREADABLE)
    else:
        click.echo(document, nl=False)
    sys.exit(EXIT_OK)
