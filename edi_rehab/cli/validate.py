"""`edi-rehab validate`: implementation-guide validation with pyx12, and the 999."""

from __future__ import annotations

import sys

import click

from .acks import VALIDATION_EXIT_CODES, ack_kind, ack_targets, write_ack
from .files import InputProblem
from .inputs import FolderFilter, expand_inputs, folder_options, total_size
from .output import EXIT_OK, EXIT_UNREADABLE, counted, emit_json, emit_jsonl, envelope_for, fail
from .progress import Progress, tracked, worker_pool


@click.command("validate")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--ack",
    "ack_path",
    metavar="PATH",
    help="Write the 999 to PATH; with several FILES or a folder, PATH is a folder and each gets <name>.999.",
)
@click.option("--format", "output_format", type=click.Choice(["text", "json", "jsonl"]), default="text", show_default=True, help="jsonl: one JSON object per file as results come, then a summary object.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes: files run in parallel, and files of 256 KiB or more are split by transaction.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary table.")
@folder_options
def validate(
    files: tuple[str, ...],
    ack_path: str | None,
    output_format: str,
    jobs: int,
    quiet: bool,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    strict: bool,
) -> None:
    """Validate FILES against their implementation guide (pyx12) and write the 999.

    Prints every error as PATH:SEGMENT: CODE message, SEGMENT being the segment's number in
    the file as given. FILE may be - for standard input, or a folder: every regular file
    below it is validated, in name order, hidden files and folders skipped, narrowed by
    --include/--exclude; a file there that is not X12 (a README) is skipped with a warning
    unless --strict. Each interchange of a 999 written takes its ISA13/GS06 from the
    per-sender control-number counter that split uses (README, the clearinghouse hook), so
    no two acks repeat one; a damaged counter means no 999 and exit 2. Exit 0 valid,
    1 invalid, 2 unreadable (not X12, a version pyx12 has no map for, or pyx12 failed); the
    worst file wins.
    """
    from ..batch import NOT_VALIDATED_CODES, Findings, WorkerFailed, collect, plan_input, run_in_order, summary_table

    try:
        folders = FolderFilter(include=include, exclude=exclude, strict=strict)
        inputs = expand_inputs(files, skip=[ack_path] if ack_path else [], folders=folders)
        targets = ack_targets(inputs, ack_path)
    except InputProblem as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)
    progress = Progress(len(inputs), total_size(inputs), enabled=not quiet)

    def say(text: str) -> None:
        progress.clear()
        click.echo(text)

    def complain(message: str) -> None:
        progress.clear()
        fail(message)

    worst = EXIT_OK
    reports = []
    rows = []
    tally = {"valid": 0, "invalid": 0, "unreadable": 0}
    try:
        with worker_pool(jobs, None) as pool:
            works = (
                work
                for index, inp in enumerate(inputs)
                for work in plan_input(index, inp.name, inp.chunks(), inp.size, checker=None, validate=True, parallel=pool is not None, jobs=jobs)
            )
            ordered = tracked(run_in_order(works, pool, window=2 * jobs), progress)
            for event in collect(ordered, lambda i: (inputs[i].name, inputs[i].size), check=False):
                if isinstance(event, Findings):
                    continue
                name, result = event.name, event.validation
                if result is None:
                    complain(event.error or f"{name}: unreadable")
                    worst = EXIT_UNREADABLE
                    tally["unreadable"] += 1
                    record = {"path": name, "status": "unreadable", "error": event.error, "issues": [], "ack": None}
                    rows.append([name, "-", "-", "-", "unreadable", "-"])
                    if output_format == "jsonl":
                        emit_jsonl({"kind": "file", **record})
                    else:
                        reports.append(record)
                    continue
                code = VALIDATION_EXIT_CODES[result.status.value]
                tally[result.status.value] += 1
                written = None
                target = targets.get(event.index)
                if target and result.ack_999 is not None:
                    progress.clear()
                    written = write_ack(target, result.ack_999)
                    if written is None:
                        code = EXIT_UNREADABLE
                for note in result.notes:
                    complain(f"{name}: {note}")
                # Why a file could not be validated goes to stderr, as check says it, in every
                # format: a hook reading stdout (or JSON) still shows the operator the cause.
                for issue in result.issues:
                    if issue.code in NOT_VALIDATED_CODES:
                        complain(f"{name}: segment {issue.segment}: {issue.message}" if issue.segment else f"{name}: {issue.message}")
                worst = max(worst, code)
                warnings = len(result.issues) - result.error_count
                rows.append([name, str(result.transaction_count), str(result.error_count), str(warnings), result.status.value, written or "-"])
                if output_format == "json":
                    reports.append({"path": name, **result.to_json(), "ack": written})
                    continue
                if output_format == "jsonl":
                    emit_jsonl({"kind": "file", "path": name, **result.to_json(), "ack": written})
                    continue
                for issue in result.issues:
                    if issue.code in NOT_VALIDATED_CODES:
                        continue  # said on stderr above
                    severity = "" if issue.severity.value == "error" else f"{issue.severity.value}: "
                    say(f"{name}:{issue.segment}: {issue.code} {severity}{issue.message}")
                counts = [
                    counted(result.error_count, "error"),
                    counted(warnings, "warning"),
                    counted(result.interchange_count, "interchange"),
                    counted(result.transaction_count, "transaction"),
                ]
                summary = f"{name}: {result.status.value} ({', '.join(counts[:2])}; {', '.join(counts[2:])})"
                say(summary + (f"; {ack_kind(result.ack_999)} written to {written}" if written else ""))
    except WorkerFailed as problem:
        complain(f"{inputs[problem.file].name}: {problem}; the run stopped")
        sys.exit(EXIT_UNREADABLE)
    progress.close()
    if output_format == "json":
        emit_json("validate", {"files": reports}, shipped_maps())
    elif output_format == "jsonl":
        emit_jsonl({"kind": "summary", "files": len(inputs), **tally, "exit_code": worst}, envelope_for("validate", shipped_maps()))
    elif len(inputs) > 1 and not quiet:
        for line in summary_table(rows, ["file", "transactions", "errors", "warnings", "status", "999"], "lrrrll"):
            click.echo(line)
        click.echo(f"{counted(len(inputs), 'file')}: {tally['valid']} valid, {tally['invalid']} invalid, {tally['unreadable']} unreadable.")
    sys.exit(worst)


def shipped_maps():
    """The shipped maps, for the tool object's release: validation itself needs none, so they
    are loaded (through the compiled cache) only when a JSON output names them."""
    from ..mapdata import MapError, load_maps
    from .options import use_compiled_maps

    try:
        use_compiled_maps()
        return load_maps()
    except MapError as problem:  # broken shipped maps: say so, as check does, without a traceback
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)
