"""`edi-rehab fix`: write a corrected 837P, byte splices only."""

from __future__ import annotations

import os
import sys

import click

from ..x12 import X12ReadError
from ..x12.document import iter_events
from .config_file import ConfigChoice
from .files import InputProblem, display_name, is_link_of, read_all, read_chunks, same_file, write_atomically
from .minutes_file import rereadable
from .options import IGNORE, LEDGER_OPTION, RULE_DATA, build_checker, in_order, warn_unused_minutes_rows
from .output import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, emit_json, fail, unreadable


@click.command("fix")
@click.argument("file")
@click.option("-o", "--output", "output", metavar="OUT", help="Write the fixed file to OUT (a temporary file in OUT's folder, then renamed); - for standard output (the report then goes to stderr).")
@click.option("--in-place", is_flag=True, help="Rewrite FILE itself, keeping the original as FILE.orig.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff, one segment per line, and write nothing.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply unsafe fixes: they change what is billed.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (comma-separated; repeatable). U102's fix needs U102 named here.")
@in_order(IGNORE, *RULE_DATA)
@click.option("--minutes-out", metavar="CSV", help="Also write the minutes CSV renumbered to follow lines that fix removed.")
@LEDGER_OPTION
def fix_command(
    file: str,
    output: str | None,
    in_place: bool,
    show_diff: bool,
    unsafe_fixes: bool,
    output_format: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    minutes_path: str | None,
    minutes_out: str | None,
    unit_method: str | None,
    ncci_files: tuple[str, ...],
    mue_file: str | None,
    config_path: ConfigChoice,
    ledger_url: str | None = None,
) -> None:
    """Apply the fixes for check's findings to the 837P FILE and write the result.

    Every byte outside the fixed elements stays as it was. Safe fixes (modifier order,
    duplicate modifiers, envelope counts) apply by default; unsafe ones (units, charges,
    modifiers that unlock payment) only with --unsafe-fixes, and U102's (raising units) only
    when U102 is also named in --select. FILE may be - for standard input (not with
    --in-place), OUT - for standard output (written only once the whole input was read). Exit 0 when no error finding remains in the output, 1 when one does, 2 when
    FILE cannot be read as X12 or an option or its file is unusable; nothing is written then.
    """
    from ..config import ConfigError
    from ..engine import CheckUsageError
    from ..fixes import FixOptions, Fixer, explicit_codes, remap_minutes_csv, render_diff, render_report
    from ..mapdata import MapError

    def usage(message: str) -> None:
        fail(message)
        sys.exit(EXIT_UNREADABLE)

    if in_place and output:
        usage("give -o OUT or --in-place, not both")
    if not (show_diff or in_place or output):
        usage("fix needs -o OUT, --in-place or --diff")
    if in_place and file == "-":
        usage("--in-place needs a file, not standard input")
    if minutes_out and not minutes_path:
        usage("--minutes-out needs --minutes")
    if show_diff and output_format == "json":
        usage("--diff prints a diff; it cannot be combined with --format json")
    to_stdout = output == "-" and not show_diff
    if to_stdout and output_format == "json":
        usage("-o - writes the fixed file to standard output; --format json would print its report there too")
    if output and not to_stdout and not show_diff and file != "-" and same_file(file, output):
        usage(f"{output} is the input file; use --in-place to rewrite it (the original is kept as .orig)")
    target = file if in_place else output
    backup = f"{file}.orig"
    name = display_name(file)

    try:
        checker = build_checker(
            minutes_path=minutes_path,
            minutes_text=None,
            unit_method=unit_method,
            ncci_files=ncci_files,
            mue_file=mue_file,
            config_path=config_path,
            select=select,
            ignore=ignore,
            claim_files=lambda _config: [rereadable(file)],
        )
    except (InputProblem, MapError, ConfigError, CheckUsageError) as problem:
        usage(str(problem))
    warn_unused_minutes_rows(checker)
    fixer = Fixer(checker, FixOptions(unsafe=unsafe_fixes, explicit=explicit_codes(checker.config.select)))
    changed = False
    ledger = source = None
    written_chunks: list[bytes] = []
    if (ledger_url is not None or checker.config.ledger is not None) and not show_diff:
        from .ledger import open_ledger

        ledger = open_ledger(ledger_url, checker.config)
        try:
            source = read_all(file)  # recorded as well as fixed: read once, into memory
        except InputProblem as problem:
            usage(str(problem))

    def fixed_events():
        nonlocal changed
        for fixed in fixer.fix_events(iter_events([source] if source is not None else read_chunks(file))):
            changed = changed or fixed.changed
            if ledger is not None:
                written_chunks.append(fixed.data)
            yield fixed

    def keep() -> bool:
        if in_place and not changed:
            return False
        # A hard link to FILE itself is the backup of a run killed before its rename: reused.
        if in_place and os.path.lexists(backup) and not is_link_of(backup, file):
            raise InputProblem(f"{backup} already exists (an earlier backup); move it away first; {name} was not changed")
        return True

    written = False
    try:
        if show_diff:
            for line in render_diff(fixed_events(), name, f"{name} (fixed)"):
                click.echo(line, nl=False)
        elif to_stdout:
            written = write_to_stdout(f.data for f in fixed_events())
        else:
            written = write_atomically(target, (f.data for f in fixed_events()), backup=in_place, keep=keep)  # type: ignore[arg-type]
    except InputProblem as problem:
        usage(str(problem))
    except X12ReadError as error:
        usage(f"{unreadable(file, error)}; fix refuses input it cannot read, so nothing was written")
    except BrokenPipeError:
        raise  # the reader of --diff or -o - went away: the entry ends the run quietly
    except OSError as error:
        usage(f"{target}: cannot write: {error.strerror or error}")
    report = fixer.finish()
    if ledger is not None and source is not None:
        from .ledger import file_findings, record_claims

        # The input with which findings were fixed, and the output as it will be sent.
        fixed_at = [(applied.code, applied.segment) for applied in report.applied]
        record_claims(ledger, name, source, "fix", file_findings(checker, source), fixed=fixed_at)
        if written and changed:
            out_data = b"".join(written_chunks)
            record_claims(ledger, "<stdout>" if to_stdout else display_name(target), out_data, "fix", report.remaining)

    if minutes_out and not show_diff and minutes_path:
        try:
            raw = read_all(minutes_path)
            encoding = "utf-8"
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                encoding = "latin-1"
                text = raw.decode(encoding)
            write_atomically(minutes_out, remap_minutes_csv(text, report.lx_maps).encode(encoding))
        except InputProblem as problem:
            usage(str(problem))
        except OSError as error:
            usage(f"{minutes_out}: cannot write: {error.strerror or error}")

    out_name = "<stdout>" if to_stdout else display_name(target) if target and not show_diff else f"{name} (fixed)"
    if output_format == "json":
        emit_json("fix", {"input": name, "output": None if show_diff else target, "written": written, **report.to_json()}, checker.maps)
    else:
        for line in render_report(report, name, out_name):
            click.echo(line, err=show_diff or to_stdout)
        if in_place and not written:
            click.echo(f"{name}: nothing to change; left as it was.")
    sys.exit(EXIT_FINDINGS if report.errors_remaining else EXIT_OK)


def write_to_stdout(chunks) -> bool:
    """Copy the fixed file to standard output once all of it was made, so an input that
    turns out unreadable half-way writes nothing (as with -o OUT). The copy waits in a
    temporary file that stays in memory up to a size, so memory stays flat on large files."""
    import shutil
    import tempfile

    with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spool:
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        stream = sys.stdout.buffer
        shutil.copyfileobj(spool, stream)
        stream.flush()
    return True
