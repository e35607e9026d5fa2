"""`edi-rehab match`: 835 service payments matched to their 837P lines and explained."""

from __future__ import annotations

import os
import sys

import click

from ..x12 import X12ReadError
from ..x12.document import iter_events
from .files import InputProblem, display_name, read_all, read_text, sample_bytes
from .minutes_file import rereadable
from .options import SAMPLE_FILE, SAMPLE_MINUTES, build_checker, match_options

#: the bundled 835 that pays and denies the claims of the bundled 837 (fixtures/make_fixtures.py)
SAMPLE_REMIT = "sample-835.x12"

#: ``--sample`` on match and appeal
SAMPLE_OPTION = click.option(
    "--sample", is_flag=True, help="Use the bundled synthetic 835, its 837P and its minutes file (give no REMIT, CLAIMS or --minutes)."
)


def sample_arguments(remit: str | None, claims: tuple[str, ...], sample: bool, minutes_path: str | None, command: str, *, ledger: bool = False) -> None:
    """Refuse a run that gives both --sample and inputs, or neither (usage error, exit 2).
    ``ledger``: the claims may come from the ledger instead of CLAIMS files."""
    if sample and (remit or claims or minutes_path):
        raise click.UsageError("--sample uses the bundled 835 and 837P with their own minutes; give no REMIT, no CLAIMS and no --minutes")
    if not sample and (not remit or (not claims and not ledger)):
        more = "; with --ledger, the claims it recorded stand for the CLAIMS files" if command == "match" else ""
        raise click.UsageError(f"{command} needs REMIT and at least one CLAIMS file (or --sample){more}")
from .output import EXIT_OK, EXIT_UNREADABLE, emit_json, fail, unreadable, warn


def _unique_inputs(paths: tuple[str, ...]) -> list[tuple[str, bytes]]:
    """(name, bytes) of each input once: a path given twice, or a file with the same bytes
    as an earlier one, is read once (a warning says so). Raises InputProblem."""
    import hashlib

    seen_paths: set[str] = set()
    seen_digests: dict[str, str] = {}
    inputs = []
    for path in paths:
        name = display_name(path)
        key = path if path == "-" else os.path.realpath(path)
        if key in seen_paths:
            warn(f"{name}: given more than once; read once")
            continue
        seen_paths.add(key)
        data = read_all(path)
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen_digests:
            warn(f"{name}: same bytes as {seen_digests[digest]}; read once")
            continue
        seen_digests[digest] = name
        inputs.append((name, data))
    return inputs


def run_match(remit: str | None, claims: tuple[str, ...], *, minutes_path, unit_method, ncci_files, mue_file, config_path, carc_file, rarc_file, sample: bool = False, ledger_url: str | None = None, command: str = "match"):
    """Read the inputs (with ``sample``, the bundled 835, 837P and minutes) and match them:
    ``(result, maps, config)``. Every problem is reported here; exits 2 on any.

    With a ledger (``ledger_url`` or the config's ``ledger``) the claim files and the 835 are
    recorded, with what match made of each payment; ``match`` with no CLAIMS reads the
    claims the ledger holds for the 835's claim ids instead."""
    from ..config import ConfigError
    from ..engine import CheckUsageError
    from ..mapdata import MapError
    from ..match import ClaimIndex, CodeBook, CodeListError, WrongFileType, index_claim_file, match_remittances, parse_code_list, read_remittance_file

    try:
        if ([remit, *claims]).count("-") > 1:
            raise InputProblem("standard input (-) can be read only once")
        minutes_text = None
        if sample:
            minutes_path, minutes_text = SAMPLE_MINUTES, sample_bytes(SAMPLE_MINUTES).decode("utf-8")
        checker = build_checker(
            minutes_path=minutes_path,
            minutes_text=minutes_text,
            unit_method=unit_method,
            ncci_files=ncci_files,
            mue_file=mue_file,
            config_path=config_path,
            select=(),
            ignore=(),
            claim_files=lambda _config: [rereadable(path) for path in claims],
        )
        lists = []
        for path in (carc_file, rarc_file):
            lists.append(parse_code_list(read_text(path), display_name(path)) if path else None)
        for code_list in lists:
            for row, message in code_list.problems if code_list else ():
                warn(f"{code_list.source}:{row}: {message}; row skipped")
        ledger = None
        if ledger_url is not None or checker.config.ledger is not None:
            from .ledger import open_ledger

            ledger = open_ledger(ledger_url, checker.config)
        if not sample and not claims and ledger is None:
            raise InputProblem(f"{command} needs at least one CLAIMS file (or --ledger, whose recorded claims stand for them)")
        if not sample and not claims and command != "match":
            raise InputProblem(f"{command} needs the CLAIMS files: its letters name the patient, whom the ledger does not hold")
        if sample:
            remit_name, remit_data = SAMPLE_REMIT, sample_bytes(SAMPLE_REMIT)
            claim_inputs = [(SAMPLE_FILE, sample_bytes(SAMPLE_FILE))]
        else:
            remit_name = display_name(remit)
            claim_inputs = _unique_inputs(claims)
            remit_data = read_all(remit)
        for name, data in claim_inputs:
            if data == remit_data:
                raise InputProblem(f"{name}: is the same file as the remittance {remit_name}; give the 837P claim files after it")
        try:
            remits = read_remittance_file(remit_name, iter_events([remit_data]))
        except X12ReadError as error:
            raise InputProblem(unreadable(remit_name, error)) from None
        for remittance in remits:
            for warning in remittance.warnings:
                warn(f"{remit_name}:{warning.segment}: {warning.message}")
        claim_files: dict[str, int] = {}
        if ledger is not None:
            from .ledger import claims_from_ledger, file_findings, record_claims

            if claim_inputs:
                for name, data in claim_inputs:
                    claim_files[name] = record_claims(ledger, name, data, command, file_findings(checker, data))
            else:
                claim_inputs, claim_files = claims_from_ledger(ledger, remits)
                if not claim_inputs:
                    warn(f"{remit_name}: the ledger holds no claim its payments name")
        index = ClaimIndex()
        for name, data in claim_inputs:
            try:
                if not index_claim_file(index, name, iter_events([data]), checker):
                    warn(f"{name}: holds no claims")
            except X12ReadError as error:
                raise InputProblem(unreadable(name, error)) from None
        if checker.minutes is not None:
            seen = checker.seen_claims
            for problem in checker.minutes.problems:
                # a repeated row of a claim no claim file has is used by nothing (as in check)
                if problem.claim_id is None or problem.claim_id in seen:
                    warn(f"{checker.minutes.source}:{problem.row}: {problem.message}")
    except (InputProblem, MapError, ConfigError, CheckUsageError, CodeListError, WrongFileType) as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)
    codes = CodeBook(checker.maps, lists[0], lists[1])
    result = match_remittances([(remit_name, r) for r in remits], index, codes, minutes=checker.minutes)
    if ledger is not None:
        from .ledger import record_remit

        record_remit(ledger, remit_name, remit_data, command, remits, result, claim_files)
    return result, checker.maps, checker.config


@click.command("match")
@click.argument("remit", required=False)
@click.argument("claims", nargs=-1)
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
@click.option("--excel", is_flag=True, help="With --format csv: guard the cells for a spreadsheet (byte-order mark, ids as =\"000123\", formula-like text prefixed with ').")
@SAMPLE_OPTION
@match_options
def match_command(remit: str | None, claims: tuple[str, ...], output_format: str, excel: bool, sample: bool, **options) -> None:
    """Match every service payment of the 835 REMIT to its line in the 837P CLAIMS.

    Each payment gets its decoded adjustments and remarks, a category, the check findings
    that explain a denial and a recommended action; 835 claims with no 837 claim are listed
    as unmatched, and an 835 that does not balance is reported. --format csv is plain CSV
    for programs; add --excel for a spreadsheet. --sample matches the bundled synthetic
    835 and 837P. REMIT or one CLAIMS file may
    be - for standard input. Exit 0, or 2 when an input cannot be read or is the wrong kind.
    """
    from ..match import render_csv, render_text

    if excel and output_format != "csv":
        raise click.UsageError("--excel needs --format csv")
    sample_arguments(remit, claims, sample, options["minutes_path"], "match", ledger=options["ledger_url"] is not None or options["config_path"].path is not None)
    result, maps, _ = run_match(remit, claims, sample=sample, **options)
    if output_format == "json":
        emit_json("match", result.to_json(), maps)
    elif output_format == "csv":
        # Bytes, so the BOM and the CSV's CRLF line ends reach the file as written.
        sys.stdout.flush()
        sys.stdout.buffer.write((b"\xef\xbb\xbf" if excel else b"") + render_csv(result, excel=excel).encode("utf-8"))
        sys.stdout.buffer.flush()
    else:
        for line in render_text(result):
            click.echo(line)
    sys.exit(EXIT_OK)
