"""`edi-rehab split`: clean claims to one 837P, held claims to another."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

import click

from ..x12 import X12ReadError
from ..x12.document import iter_events
from .config_file import ConfigChoice
from .files import InputProblem, display_name, read_all, read_chunks, same_file, write_together
from .acks import ack_kind
from .minutes_file import rereadable
from .options import LEDGER_OPTION, check_options, prepare_check
from .output import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, counted, fail, json_document, unreadable, warn


@click.command("split")
@click.argument("file")
@click.option("--clean", "clean_path", required=True, metavar="OUT", help="The 837P of the claims with no finding at or above --fail-on.")
@click.option("--held", "held_path", required=True, metavar="OUT2", help="The 837P of the claims held back.")
@click.option("--report", "report_path", metavar="PATH", help="Also write why each claim was held, as JSON, to PATH.")
@click.option("--ack", "ack_path", metavar="PATH", help="With --validate: write the 999 for FILE as submitted to PATH (with the outputs).")
@click.option("--control-number", type=click.IntRange(1, 999_999_999), help="ISA13/GS06 of the first output interchange, +1 for each next one (clean first, then held, then the --ack interchanges); the counter is then neither read nor changed [default: the next numbers of the per-sender counter].")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="json: print the report (as --report writes it).")
@check_options
@LEDGER_OPTION
def split_command(
    file: str,
    clean_path: str,
    held_path: str,
    report_path: str | None,
    ack_path: str | None,
    control_number: int | None,
    output_format: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    minutes_path: str | None,
    unit_method: str | None,
    ncci_files: tuple[str, ...],
    mue_file: str | None,
    config_path: ConfigChoice,
    fail_on: str,
    validate_too: bool,
    jobs: int,
    ledger_url: str | None = None,
) -> None:
    """Write the claims of the 837P FILE that pass the check to OUT, and the rest to OUT2.

    A claim is held when a finding at or above --fail-on lands on it: on the claim itself,
    on the HL loops it hangs from, or on the transaction header or ISA/GS that the outputs
    copy (with --validate, implementation-guide errors count too; --jobs then runs the
    validation in parallel). Both outputs are complete 837P files: every segment of each
    claim and its parents byte for byte, HL renumbered, SE01/GE01/IEA01 counted, fresh
    ISA13/GS06/ST02. Together they hold every claim of FILE exactly once. ISA13/GS06 come
    from a counter kept per sender (ISA06/ISA08) in the user's state folder
    ($EDI_REHAB_STATE_DIR when set), so no two runs hand out the same number; a damaged
    counter file stops the run (exit 2) rather than risk a repeat. An output with no
    claims is not written (an older file at its path is removed). FILE may be - for
    standard input.

    Prints each held claim with its reasons (or the JSON report with --format json). Exit 0
    when no claim was held, 1 when some were (both files written), 2 when FILE cannot be
    read, is not an 837P, holds no claims or cannot be validated, or an output cannot be
    written: nothing is written then.
    """
    from ..batch import note_seen_claims, why_not_validated
    from ..findings import Severity
    from ..ig import ig_findings
    from ..report import finding_json, text_line
    from ..control_numbers import NumberSource, Sequential
    from ..split import SplitError, Splitter, hold_at_or_above
    from .acks import ack_senders, renumbered_ack
    from .control_state import CounterProblem, StateFileCounter

    def usage(message: str) -> None:
        fail(message)
        sys.exit(EXIT_UNREADABLE)

    if ack_path and not validate_too:
        usage("--ack writes the 999 of --validate; add --validate")
    outputs = [clean_path, held_path] + [p for p in (report_path, ack_path) if p]
    if len({os.path.realpath(p) for p in outputs}) != len(outputs):
        usage("--clean, --held, --report and --ack must be different files")
    if file != "-" and any(same_file(file, p) for p in outputs if os.path.exists(p)):
        usage("an output would overwrite the input; write the split somewhere else")
    recipe, checker, ig_filter = prepare_check(
        select=select,
        ignore=ignore,
        validate_too=validate_too,
        minutes_path=minutes_path,
        minutes_text=None,
        unit_method=unit_method,
        ncci_files=ncci_files,
        mue_file=mue_file,
        config_path=config_path,
        claim_files=lambda _config: [rereadable(file)],
    )
    threshold = Severity(fail_on)
    name = display_name(file)
    ack = None
    ledger = None
    if ledger_url is not None or checker.config.ledger is not None:
        from .ledger import open_ledger

        ledger = open_ledger(ledger_url, checker.config)
    try:
        extra: list = []
        chunks: Iterable[bytes]
        if validate_too:
            from ..validate import validate_bytes

            data = read_all(file)
            validation = validate_bytes(data, jobs=jobs)
            if validation.status.value == "unreadable":
                raise InputProblem(f"{name}: not validated: {why_not_validated(validation)}")
            extra = ig_findings(validation, ig_filter)
            ack = validation.ack_999
            for note in validation.notes:
                warn(f"{name}: {note}")
            chunks = [data]
        else:
            # the ledger records the bytes checked, so they are read once, into memory
            chunks = [read_all(file)] if ledger is not None else read_chunks(file)
        splitter = Splitter(hold=hold_at_or_above(threshold), extra=extra)
        seen: list = []  # (findings, CLM positions) for the ledger
        for result in checker.check_events(iter_events(chunks)):
            splitter.add(result)
            if ledger is not None:
                seen.append((result.findings, [item.claim.position() for item in result.claims]))
        senders = splitter.output_senders()
        if not senders:
            usage(f"{name}: holds no claims; nothing was written")
        acks_for = ack_senders(ack) if ack_path and ack is not None else []
        # One take for the outputs and the acks: one lock, and the override's sequence
        # runs on from the outputs into the acks.
        source: NumberSource = Sequential(control_number) if control_number else StateFileCounter()
        try:
            numbers = source.take([*senders, *acks_for])
        except ValueError as error:  # --control-number: the numbers would pass 999999999
            raise SplitError(str(error)) from None
        outcome = splitter.finish(numbers[: len(senders)])
        if acks_for:
            ack = renumbered_ack(ack, numbers[len(senders) :])
    except CounterProblem as problem:
        usage(f"{name}: {problem}; nothing was written")
    except InputProblem as problem:
        usage(f"{problem}; nothing was written")
    except X12ReadError as error:
        usage(f"{unreadable(file, error)}; nothing was written")
    except SplitError as error:
        usage(f"{name}: {error}; nothing was written")
    note_seen_claims(checker, ())  # one process: the checker saw every claim itself
    leftovers = checker.minutes_findings()
    clean, held = outcome.clean, outcome.held
    report = {
        "input": name,
        "fail_on": threshold.value,
        "validated": validate_too,
        "claims": outcome.claims,
        "clean": {"path": clean_path if clean.claims else None, "claims": clean.claims, "interchanges": list(clean.interchanges)},
        "held": {"path": held_path if held.claims else None, "claims": held.claims, "interchanges": list(held.interchanges)},
        "held_claims": [claim.to_json() for claim in outcome.held_claims],
        "not_carried": [finding_json(f) for f in outcome.not_carried],
        "minutes": [finding_json(f) for f in leftovers],
    }
    document = json_document("split", report, checker.maps)
    files: list[tuple[str, bytes | None]] = [(clean_path, clean.data or None), (held_path, held.data or None)]
    if report_path:
        files.append((report_path, document.encode("utf-8")))
    if ack_path and ack is not None:
        # latin-1: pyx12 was fed one character per byte (see renumbered_ack).
        files.append((ack_path, ack.encode("latin-1")))
    try:
        write_together(files)
    except OSError as error:
        usage(f"cannot write {error.filename or 'an output'}: {error.strerror or error}; nothing was written")
    if ledger is not None:
        from .ledger import record_claims

        held_at = {claim.segment for claim in outcome.held_claims}
        decisions = {at: "held" if at in held_at else "clean" for _findings, positions in seen for at in positions}
        found = [*extra, *(f for findings, _positions in seen for f in findings)]
        record_claims(ledger, name, chunks[0], "split", sorted(found, key=lambda f: f.segment), decisions=decisions)
    if output_format == "json":
        click.echo(document, nl=False)
    else:
        for claim in outcome.held_claims:
            codes = ", ".join(dict.fromkeys(f.code for f in claim.reasons))
            click.echo(f"{name}:{claim.segment}: claim {claim.claim_id} held: {codes}")
            for finding in claim.reasons:
                click.echo(f"    {text_line(name, finding)}")
        for finding in outcome.not_carried:
            click.echo(f"{text_line(name, finding)} (resolved by the fresh envelope)")
        minutes_source = checker.minutes.source if checker.minutes is not None else ""
        for finding in leftovers:
            click.echo(text_line(minutes_source, finding))

        def side(output, path: str, what: str) -> str:
            if not output.claims:
                return f"no {what} claims ({path} not written)"
            return f"{counted(output.claims, f'{what} claim')} to {path} (ISA13 {', '.join(output.interchanges)})"

        where = f"; report in {report_path}" if report_path else ""
        where += f"; {ack_kind(ack)} in {ack_path}" if ack_path and ack is not None else ""
        click.echo(f"{name}: {side(clean, clean_path, 'clean')}, {side(held, held_path, 'held')}{where}.")
    sys.exit(EXIT_FINDINGS if held.claims else EXIT_OK)
