"""`edi-rehab check`: the therapy rules on 837P files, for people and for hooks."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import click

from .acks import ack_kind, ack_targets, write_ack
from .colour import COLOR_OPTION
from .config_file import ConfigChoice
from .files import InputProblem, sample_bytes
from .inputs import FolderFilter, Input, expand_inputs, folder_options, total_size
from .options import LEDGER_OPTION, SAMPLE_FILE, SAMPLE_MINUTES, check_options, prepare_check
from .output import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, emit_jsonl, envelope_for, fail, json_document, warn
from .progress import Progress, tracked, worker_pool

#: --output-format: --format's three, and the reports CI systems read (edi_rehab.renderers)
OUTPUT_FORMATS = ["text", "json", "jsonl", "github", "gitlab", "junit", "sarif"]


@click.command("check")
@click.argument("files", nargs=-1)
@click.option("--format", "output_format", type=click.Choice(["text", "json", "jsonl"]), default="text", show_default=True, help="jsonl: one JSON object per file as results come, then a summary object.")
@click.option("--output-format", "output_format_ci", type=click.Choice(OUTPUT_FORMATS), default=None, help="--format's choices plus CI reports: github (workflow annotations), gitlab (Code Quality JSON), junit (XML), sarif (2.1.0). Wins over --format.")
@check_options
@click.option("--ack", "ack_path", metavar="PATH", help="With --validate: write the 999 to PATH; with several FILES or a folder, PATH is a folder and each gets <name>.999.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are at or above --fail-on (2 still means unreadable).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary table.")
@click.option("-v", "--verbose", is_flag=True, help="Say on stderr which config file was read (given, found, or none).")
@click.option("--sample", is_flag=True, help="Check the bundled synthetic sample with its minutes file.")
@click.option("--statistics", is_flag=True, help="Count the findings per code (count, code, severity, fixable, rule) instead of listing them; text or json.")
@COLOR_OPTION
@folder_options
@LEDGER_OPTION
def check(
    files: tuple[str, ...],
    output_format: str,
    output_format_ci: str | None,
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
    ack_path: str | None,
    exit_zero: bool,
    quiet: bool,
    verbose: bool,
    sample: bool,
    statistics: bool,
    color: str,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    strict: bool,
    ledger_url: str | None = None,
) -> None:
    """Run the therapy billing rules on 837P FILES (- for standard input).

    Prints FILE:SEGMENT: SEVERITY CODE [MARK] message [claim, line, procedure] per finding
    ([*] a safe fix, [~] an unsafe one, no mark no fix) and a summary.
    A FILE that is a folder stands for every regular file below it, in name order, hidden
    files and folders skipped, narrowed by --include/--exclude (or the config's include and
    exclude); a file there that is not X12 (a README) is skipped with a warning unless
    --strict. With several files a table sums them up. Exit 0 when nothing
    is at or above --fail-on, 1 when something is, 2 when an input, map or config cannot be
    read (or, with --validate, a file could not be validated) or the options make no sense;
    the worst file wins.
    """
    from ..batch import Findings, WorkerFailed, collect, note_seen_claims, plan_input, run_in_order
    from ..config import Config
    from ..findings import Severity
    from ..report import FileReport, Summary, render_json, render_text

    if output_format_ci is not None:
        output_format = output_format_ci
    if statistics and output_format not in ("text", "json"):
        fail(f"--statistics counts findings as text or json, not {output_format}")
        sys.exit(EXIT_UNREADABLE)
    minutes_text = None
    #: the inputs, known here for --sample, else found by expand() below
    expanded: list[Input] | None = None
    if ack_path and not validate_too:
        fail("--ack writes the 999 of --validate; add --validate")
        sys.exit(EXIT_UNREADABLE)
    if sample:
        if files or minutes_path:
            fail("--sample checks the bundled sample with its own minutes; give no FILE and no --minutes")
            sys.exit(EXIT_UNREADABLE)
        try:
            data = sample_bytes(SAMPLE_FILE)
            expanded = [Input(SAMPLE_FILE, SAMPLE_FILE, len(data), data=data)]
            minutes_text = sample_bytes(SAMPLE_MINUTES).decode("utf-8")
        except InputProblem as problem:
            fail(str(problem))
            sys.exit(EXIT_UNREADABLE)
        minutes_path = SAMPLE_MINUTES
    elif not files:
        fail("check needs at least one FILE (or - for standard input, or --sample)")
        sys.exit(EXIT_UNREADABLE)

    def expand(config) -> list[Input]:
        """The inputs, once: after the config is read, as its include/exclude decide what a
        folder stands for. Raises InputProblem."""
        nonlocal expanded
        if expanded is None:
            folders = FolderFilter(include=include or config.include, exclude=(*config.exclude, *exclude), strict=strict)
            expanded = expand_inputs(files, skip=[ack_path] if ack_path else [], folders=folders)
        return expanded

    def claim_files(config) -> list:
        """For a large minutes file: each input's chunks, read before it is checked."""
        return [inp.chunks() if inp.data is not None or inp.size is not None else None for inp in expand(config or Config())]

    recipe, checker, ig_filter = prepare_check(
        select=select,
        ignore=ignore,
        validate_too=validate_too,
        minutes_path=minutes_path,
        minutes_text=minutes_text,
        unit_method=unit_method,
        ncci_files=ncci_files,
        mue_file=mue_file,
        config_path=config_path,
        claim_files=claim_files,
    )
    if verbose:
        click.echo(f"edi-rehab: config: {config_path.describe()}", err=True)
    try:
        inputs = expand(checker.config)
    except InputProblem as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)
    recorder = None
    if ledger_url is not None or checker.config.ledger is not None:
        from .ledger import CheckRecorder

        recorder = CheckRecorder.start(ledger_url, checker, inputs)
        inputs = recorder.inputs
    try:
        targets = ack_targets(inputs, ack_path)
    except InputProblem as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)
    threshold = Severity(fail_on)
    progress = Progress(len(inputs), total_size(inputs), enabled=not quiet)
    finished: list = []
    seen_claims: set[str] = set()

    def finish(result) -> None:
        """An input is done: say why it is unreadable, write its 999, remember it for the table."""
        progress.clear()
        if result.error is not None:
            fail(result.error)
        elif not result.professional:
            warn(f"{result.name}: holds no 837P (005010X222) transaction set; the therapy rules did not run on it")
        validation = result.validation
        result.ack = None
        if validation is not None:
            for note in validation.notes:
                fail(f"{result.name}: {note}")
            target = targets.get(result.index)
            if target and validation.ack_999 is not None:
                result.ack = write_ack(target, validation.ack_999)
                if result.ack is None:
                    result.error = result.error or f"{target}: the {ack_kind(validation.ack_999)} could not be written"
        seen_claims.update(result.seen_claims)
        finished.append(result)

    def leftovers() -> list:
        if checker.minutes is None:
            return []
        note_seen_claims(checker, seen_claims)
        return checker.minutes_findings()

    def events(pool):
        works = (
            work
            for index, inp in enumerate(inputs)
            for work in plan_input(
                index, inp.name, inp.chunks(), inp.size,
                checker=checker, validate=validate_too, parallel=pool is not None, jobs=jobs,
            )
        )
        ordered = tracked(run_in_order(works, pool, window=2 * jobs), progress)
        results = collect(ordered, lambda i: (inputs[i].name, inputs[i].size), buffer=output_format == "jsonl", ig=ig_filter)
        return recorder.tap(results) if recorder is not None else results

    def reports(stream) -> Iterator[FileReport]:
        """One FileReport per input, its findings streamed from ``stream``."""
        stream = iter(stream)
        event = next(stream, None)
        while event is not None:
            report = FileReport(inputs[event.index].name)
            box = [event]

            def findings(report=report, box=box):
                item = box[0]
                while isinstance(item, Findings):
                    yield from item.findings
                    item = next(stream)
                finish(item)
                report.error = item.error
                box[0] = next(stream, None)

            report.findings = findings()
            yield report
            event = box[0]
        found = leftovers()
        if found:
            yield FileReport(checker.minutes.source, found)

    summary = Summary()
    try:
        with check_pool(jobs, recipe) as pool:
            if statistics:  # text or json (refused with the others above)
                counted = count_per_code(reports(events(pool)), summary)
                progress.clear()
                for line in render_counts(counted, summary, output_format, color, checker.maps):
                    click.echo(line, color=True if color_on(output_format, color) else None)
            elif output_format == "jsonl":
                run_jsonl(events(pool), finish, leftovers, finished, threshold, summary, checker, exit_zero)
            elif output_format in CI_FORMATS:
                click.echo(render_whole(output_format, reports(events(pool)), summary, threshold, checker.maps), nl=False)
            elif output_format == "json":
                for piece in render_json(reports(events(pool)), summary, envelope_for("check", checker.maps)):
                    click.echo(piece, nl=False)
            else:
                style, echo_color = text_style(color)
                # One line behind: the last item is the summary, and the table goes before it.
                previous = None
                for text in render_text(reports(events(pool)), summary, style):
                    if previous is not None:
                        progress.clear()
                        click.echo(previous, color=echo_color)
                    previous = text
                progress.clear()
                if len(finished) > 1 and not quiet:
                    for line in check_table(finished, threshold, validate_too):
                        click.echo(line)
                click.echo(previous, color=echo_color)
    except WorkerFailed as problem:
        progress.close()
        fail(f"{inputs[problem.file].name}: {problem}; the run stopped")
        sys.exit(EXIT_UNREADABLE)
    progress.close()
    if finished and not any(r.professional for r in finished) and not any(r.error for r in finished):
        fail("no input holds an 837P transaction set: nothing was checked (check takes 837P files)")
    sys.exit(check_exit_code(summary, finished, threshold, exit_zero))


CI_FORMATS = ("github", "gitlab", "junit", "sarif")


def check_pool(jobs: int, recipe):
    """``--jobs N``'s workers: forked directly where the platform forks (batch.ForkPool, which
    spares the run importing concurrent.futures and multiprocessing), else a process pool;
    ``None`` for one job."""
    from ..batch import ForkPool, start_worker

    if jobs > 1 and ForkPool.available():
        return ForkPool(jobs, start_worker, recipe)
    return worker_pool(jobs, recipe)


def render_whole(output_format: str, stream, summary, threshold, maps) -> str:
    """Read every file's findings (counting them for the exit code), then render the report
    at once: these formats are one document, not lines."""
    from ..renderers import RENDERERS, tool_json
    from ..report import FileReport

    files = []
    for report in stream:
        findings = list(report.findings)  # runs the input to its end, which sets report.error
        summary.files += 1
        for finding in findings:
            summary.add(finding)
        if report.error is not None:
            summary.unreadable += 1
        files.append(FileReport(report.path, findings, report.error))
    return RENDERERS[output_format](files, threshold, tool_json(maps))


def check_exit_code(summary, finished: list, threshold, exit_zero: bool) -> int:
    """2 for an unreadable input, or when no input holds an 837P (as ``split``: a hook given
    only 835s must not pass); else 1 for findings at or above ``threshold`` unless ``exit_zero``."""
    if summary.unreadable or any(r.error for r in finished):
        return EXIT_UNREADABLE
    if not any(r.professional for r in finished):
        return EXIT_UNREADABLE
    if not exit_zero and summary.at_or_above(threshold):
        return EXIT_FINDINGS
    return EXIT_OK


def check_table(results: list, threshold, validated: bool) -> list[str]:
    from ..batch import check_status, summary_table

    header = ["file", "claims", "errors", "warnings", "info", "result"] + (["IG"] if validated else [])
    align = "lrrrrl" + ("l" if validated else "")
    rows = []
    for r in results:
        row = [r.name, str(r.claims), str(r.counts["error"]), str(r.counts["warning"]), str(r.counts["info"]), check_status(r, threshold)]
        if validated:
            row.append(r.validation.status.value if r.validation is not None else "-")
        rows.append(row)
    return summary_table(rows, header, align)


def color_on(output_format: str, color: str) -> bool:
    from .colour import wants_colour

    return output_format == "text" and wants_colour(color)


def text_style(color: str):
    """``(style, echo_color)``: the renderers' style and click.echo's ``color`` argument
    (``True`` keeps the escapes; ``None`` lets click strip them off a terminal)."""
    from ..report import no_style
    from .colour import colour_style

    return (colour_style, True) if color_on("text", color) else (no_style, None)


def count_per_code(stream, summary):
    """``check --statistics``: read every finding (counting it for the exit code too) into
    per-code statistics."""
    from ..report import Statistics

    counted = Statistics()
    for report in stream:
        summary.files += 1
        for finding in report.findings:
            summary.add(finding)
            counted.add(finding)
        if report.error is not None:
            summary.unreadable += 1
    return counted


def rule_names() -> dict[str, str]:
    """code -> rule name, for the statistics (IG findings are the implementation-guide family)."""
    from ..rules.registry import RULES

    return {rule.code: rule.name for rule in RULES}


def render_counts(counted, summary, output_format: str, color: str, maps) -> list[str]:
    """The statistics as a table and the summary, or as one JSON document (the shared
    envelope first, shaped as ``schemas/check-statistics.schema.json``)."""
    from ..ig import PREFIX, family_json

    names = rule_names()
    names.update({row.code: family_json()["name"] for row in counted.rows() if row.code.startswith(PREFIX)})
    if output_format == "json":
        from ..report import statistics_json

        body = {"statistics": statistics_json(counted, names), "files": summary.files, "summary": summary.counts}
        return [json_document("check", body, maps).rstrip("\n")]
    from ..report import render_statistics

    style, _ = text_style(color)
    table = render_statistics(counted, names, style) if counted.counts else []
    return [*table, summary.line(style)]


def run_jsonl(stream, finish, leftovers, finished, threshold, summary, checker, exit_zero: bool) -> None:
    """``check --format jsonl``: one object per input as it finishes (input order), the
    minutes CSV's own findings as one more, then a summary object."""
    from ..batch import Findings, check_status
    from ..report import finding_json

    held: list = []
    for event in stream:
        if isinstance(event, Findings):
            held.extend(event.findings)
            continue
        finish(event)
        summary.files += 1
        for finding in held:
            summary.add(finding)
        if event.error is not None:
            summary.unreadable += 1
        record = {
            "kind": "file",
            "path": event.name,
            "status": check_status(event, threshold),
            "claims": event.claims,
            "counts": event.counts,
            "findings": [finding_json(f) for f in held],
            "error": event.error,
        }
        if event.validation is not None:
            record["validation"] = {"status": event.validation.status.value, "ack": event.ack}
        emit_jsonl(record)
        held = []
    found = leftovers()
    if found:
        summary.files += 1
        counts = {s: 0 for s in ("error", "warning", "info")}
        for finding in found:
            summary.add(finding)
            counts[finding.severity.value] += 1
        emit_jsonl({"kind": "file", "path": checker.minutes.source, "status": "minutes", "claims": 0, "counts": counts, "findings": [finding_json(f) for f in found], "error": None})
    emit_jsonl(
        {"kind": "summary", "files": summary.files, "unreadable": summary.unreadable, "counts": summary.counts, "fail_on": threshold.value, "exit_code": check_exit_code(summary, finished, threshold, exit_zero)},
        envelope_for("check", checker.maps),
    )
