"""The command line: the only module that opens files, reads stdin, prints and sets exit codes.

Exit codes, shared by every command:

* 0: nothing at or above the failing severity;
* 1: findings at or above it (``check``), errors left (``fix``), invalid (``validate``);
* 2: unreadable input or a usage error, always with a message and never a traceback.

Across several files the worst code wins.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click

from . import __version__
from .batch import InputFailure
from .gcpause import each_with_collector_paused
from .inventory import describe_event, render_text
from .x12 import X12ReadError
from .x12.document import iter_events

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_UNREADABLE = 2

#: Read size for streaming input; bounded so memory stays flat on large files.
CHUNK_SIZE = 1 << 20


class InputProblem(InputFailure):
    """A file that cannot be opened or read; reported as exit 2."""


# -- I/O helpers (kept here: nothing else in the package touches files) ---------------------
def read_chunks(path: str) -> Iterator[bytes]:
    """The bytes of ``path`` (``-`` for stdin), in bounded chunks."""
    if path == "-":
        stream = sys.stdin.buffer
        while chunk := stream.read(CHUNK_SIZE):
            yield chunk
        return
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise InputProblem(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputProblem(f"{path}: is a directory") from None
    except OSError as error:
        raise InputProblem(f"{path}: cannot open: {error.strerror}") from None
    with handle:
        try:
            while chunk := handle.read(CHUNK_SIZE):
                yield chunk
        except OSError as error:
            raise InputProblem(f"{path}: cannot read: {error.strerror}") from None


def read_all(path: str) -> bytes:
    return b"".join(read_chunks(path))


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def write_atomically(
    path: str,
    data: bytes | Iterable[bytes],
    *,
    backup: bool = False,
    keep: Callable[[], bool] | None = None,
) -> bool:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    A crash leaves either the old file or the new one, never a half-written file. ``data``
    may be an iterable of chunks, written as they come (memory stays flat); an exception
    while producing them removes the temporary file, leaves ``path`` as it was and
    propagates. ``keep``, when given, is asked once everything is written: False discards
    the temporary file and leaves ``path`` untouched. Returns whether ``path`` was written.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        _give_mode(fd, target)
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, (bytes, bytearray, memoryview)):
                handle.write(data)
            else:
                for chunk in data:
                    handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        if keep is not None and not keep():
            os.unlink(temp_name)
            return False
        if backup and target.exists():
            os.replace(target, target.with_name(target.name + ".orig"))
        os.replace(temp_name, target)
    except BaseException:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise
    return True


def _give_mode(fd: int, target: Path) -> None:
    """The permissions ``target`` has (or a new file would get under the umask), not
    mkstemp's private 0600: the renamed file should look like any other written file."""
    try:
        mode = target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        os.fchmod(fd, mode)
    except (OSError, AttributeError):  # pragma: no cover - platforms without fchmod
        pass


def fail(message: str) -> None:
    click.echo(f"edi-rehab: {message}", err=True)


def unreadable(path: str, error: X12ReadError) -> str:
    return f"{display_name(path)}: {error}"


# -- commands ---------------------------------------------------------------------------------
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edi-rehab")
def main() -> None:
    """Check, fix and trace X12 837P/835 files for PT, OT and SLP billing."""


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(files: tuple[str, ...], output_format: str) -> None:
    """List what FILES hold: envelopes, then claims and lines (837P) or payments (835).

    FILE may be - for standard input.
    """
    worst = EXIT_OK
    documents = []
    for path in files:
        described_events = []
        try:
            for described in each_with_collector_paused(describe_event, iter_events(read_chunks(path))):
                if described is None:
                    continue
                if output_format == "text":
                    if not described_events:
                        click.echo(display_name(path))
                    for line in render_text(described):
                        click.echo(line)
                described_events.append(described)
        except InputProblem as problem:
            fail(str(problem))
            worst = EXIT_UNREADABLE
            continue
        except X12ReadError as error:
            fail(unreadable(path, error))
            worst = EXIT_UNREADABLE
            continue
        documents.append({"path": display_name(path), "events": described_events})
    if output_format == "json":
        click.echo(json.dumps({"files": documents}, indent=2))
    sys.exit(worst)


# -- inputs: files, folders and standard input ------------------------------------------------
@dataclass(frozen=True)
class Input:
    """One input of a run: a file, standard input (``-``) or bytes in memory (``--sample``)."""

    path: str
    name: str
    #: Bytes, when known before reading (a regular file); ``None`` for a stream.
    size: int | None = None
    #: Its path inside the folder argument it was found in (``None``: named directly).
    relative: str | None = None
    data: bytes | None = None

    def chunks(self) -> Iterable[bytes]:
        return [self.data] if self.data is not None else read_chunks(self.path)


def walk_folder(
    root: str, skip: Iterable[str] = (), seen_files: set[tuple[int, int]] | None = None
) -> Iterator[tuple[str, str, int]]:
    """``(path, path relative to root, size)`` of every file a folder run picks, in order.

    Picked: regular files, and links to them, anywhere below ``root``. Each folder's entries
    are visited in name order (code-point order), depth-first, so the order is the same on
    every machine. Skipped: names starting with a dot (files and folders), anything that is
    not a regular file or folder (FIFOs, sockets, devices: reading one could block the run),
    links that lead nowhere (with a warning), and the folders in ``skip`` (where the run
    writes its 999s). Links to folders are followed, but every folder and every file is
    visited once (by device and inode), so a link loop ends; ``seen_files`` (device, inode)
    carries that across several walks. Raises :class:`InputProblem` when a folder cannot be
    listed.
    """
    seen_folders: set[tuple[int, int]] = set()
    if seen_files is None:
        seen_files = set()
    for folder in skip:
        try:
            info = os.stat(folder)
        except OSError:
            continue
        seen_folders.add((info.st_dev, info.st_ino))

    def listing(folder: str, relative: str) -> Iterator[tuple[str, str, os.stat_result | None]]:
        try:
            with os.scandir(folder) as entries:
                names = sorted(entry.name for entry in entries)
        except OSError as error:
            raise InputProblem(f"{folder}: cannot list: {error.strerror}") from None
        for name in names:
            if name.startswith("."):
                continue
            path = os.path.join(folder, name)
            try:
                info = os.stat(path)
            except OSError:
                warn(f"{path}: a link that leads nowhere, or unreadable; skipped")
                continue
            yield path, os.path.join(relative, name) if relative else name, info

    info = os.stat(root)
    seen_folders.add((info.st_dev, info.st_ino))
    stack = [listing(root, "")]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        path, relative, info = entry
        key = (info.st_dev, info.st_ino)
        if stat.S_ISDIR(info.st_mode):
            if key not in seen_folders:
                seen_folders.add(key)
                stack.append(listing(path, relative))
        elif stat.S_ISREG(info.st_mode) and key not in seen_files:
            seen_files.add(key)
            yield path, relative, info.st_size


def expand_inputs(args: tuple[str, ...], *, skip: Iterable[str] = ()) -> list[Input]:
    """The inputs the arguments name, in order: files as given, folders walked
    (:func:`walk_folder`), ``-`` for standard input. A file named twice (``check a a/b``, or
    a file and its folder) is read once, where it first comes. Raises :class:`InputProblem`
    for a second ``-`` or a folder with nothing to pick."""
    if args.count("-") > 1:
        raise InputProblem("standard input (-) can be read only once")
    inputs: list[Input] = []
    seen_files: set[tuple[int, int]] = set()
    for arg in args:
        if arg == "-":
            inputs.append(Input("-", display_name("-")))
            continue
        try:
            info = os.stat(arg)
        except OSError:
            inputs.append(Input(arg, arg))  # reading it says why it cannot be read
            continue
        if not stat.S_ISDIR(info.st_mode):
            if stat.S_ISREG(info.st_mode):
                key = (info.st_dev, info.st_ino)
                if key in seen_files:
                    continue
                seen_files.add(key)
            inputs.append(Input(arg, arg, info.st_size if stat.S_ISREG(info.st_mode) else None))
            continue
        found = [Input(path, path, size, relative) for path, relative, size in walk_folder(arg, skip, seen_files)]
        if not found and next(walk_folder(arg, skip), None) is None:
            raise InputProblem(f"{arg}: no files to read in this folder (hidden files and folders are skipped)")
        inputs += found
    return inputs


class Progress:
    """A progress line on stderr for long runs.

    Drawn only when ``stream`` is a terminal and the run is not quiet, and only once the run
    has taken ``delay`` seconds (short runs stay silent); redrawn at most every ``interval``
    seconds. :meth:`clear` takes it off the screen before anything else is printed.
    """

    def __init__(
        self,
        total_files: int,
        total_bytes: int | None,
        *,
        enabled: bool,
        stream=None,
        delay: float = 0.5,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and _is_terminal(self.stream)
        self.total_files, self.total_bytes = total_files, total_bytes
        self.files = self.bytes = 0
        self.delay, self.interval, self.clock = delay, interval, clock
        self.started = clock()
        self.drawn_at: float | None = None
        self.shown = 0

    def advance(self, size: int = 0, files: int = 0) -> None:
        self.bytes += size
        self.files += files
        if not self.enabled:
            return
        now = self.clock()
        if now - self.started < self.delay or (self.drawn_at is not None and now - self.drawn_at < self.interval):
            return
        from .batch import progress_line

        width = shutil.get_terminal_size((80, 24)).columns - 1
        line = progress_line(self.bytes, self.total_bytes, self.files, self.total_files, now - self.started, width)
        self._write("\r" + line + " " * max(0, self.shown - len(line)) + "\r")
        self.shown, self.drawn_at = len(line), now

    def clear(self) -> None:
        if self.shown:
            self._write("\r" + " " * self.shown + "\r")
            self.shown = 0
            self.drawn_at = None

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextmanager
def worker_pool(jobs: int, recipe):
    """A process pool of ``jobs`` workers (``None`` for one job: everything runs here)."""
    if jobs <= 1:
        yield None
        return
    from concurrent.futures import ProcessPoolExecutor

    from .batch import start_worker

    pool = ProcessPoolExecutor(max_workers=jobs, initializer=start_worker, initargs=(recipe,))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def tracked(ordered, progress: Progress):
    """Pass ``run_in_order``'s results through, counting them on the progress line."""
    for work, value in ordered:
        progress.advance(work.size, 1 if work.kind == "end" else 0)
        yield work, value


def total_size(inputs: list[Input]) -> int | None:
    sizes = [inp.size for inp in inputs]
    return None if any(size is None for size in sizes) else sum(sizes)  # type: ignore[misc]


# -- validate ---------------------------------------------------------------------------------
VALIDATION_EXIT_CODES = {"valid": EXIT_OK, "invalid": EXIT_FINDINGS, "unreadable": EXIT_UNREADABLE}


def ack_targets(inputs: list[Input], ack_path: str | None) -> dict[int, str]:
    """Where each input's 999 goes, by input index: PATH itself for one file named directly;
    otherwise PATH is a folder and each input gets ``PATH/<name>.999``, where ``<name>`` is
    its path inside the folder argument it came from (or its file name, ``stdin`` for -).

    Raises :class:`InputProblem` when the folder cannot be made or two inputs share a name.
    """
    if ack_path is None:
        return {}
    folder_run = len(inputs) > 1 or any(inp.relative is not None for inp in inputs)
    if not folder_run and not Path(ack_path).is_dir():
        return {0: ack_path} if inputs else {}
    folder = Path(ack_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputProblem(f"{ack_path}: cannot use as the --ack folder: {error.strerror}") from None
    targets: dict[int, str] = {}
    for index, inp in enumerate(inputs):
        name = "stdin" if inp.path == "-" else (inp.relative or Path(inp.path).name)
        target = str(folder / (name + ".999"))
        if target in targets.values():
            raise InputProblem(f"two inputs would write the same 999 {target}; validate them separately")
        targets[index] = target
    return targets


def write_ack(target: str, text: str) -> str | None:
    """Write one 999; the path written, or ``None`` after printing why it could not be."""
    try:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        # latin-1: pyx12 was fed one character per byte, so its echo of a bad value goes
        # back out as the bytes that came in.
        write_atomically(target, text.encode("latin-1"))
    except OSError as error:
        fail(f"{target}: cannot write the 999: {error.strerror or error}")
        return None
    return target


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def emit_jsonl(record: dict) -> None:
    click.echo(json.dumps(record, ensure_ascii=True, separators=(",", ":")))
    sys.stdout.flush()


@main.command()
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
def validate(files: tuple[str, ...], ack_path: str | None, output_format: str, jobs: int, quiet: bool) -> None:
    """Validate FILES against their implementation guide (pyx12) and write the 999.

    Prints every error as PATH:SEGMENT: CODE message, SEGMENT being the segment's number in
    the file as given. FILE may be - for standard input, or a folder: every regular file
    below it is validated, in name order, hidden files and folders skipped. Exit 0 valid,
    1 invalid, 2 unreadable (not X12, a version pyx12 has no map for, or pyx12 failed); the
    worst file wins.
    """
    from .batch import Findings, WorkerFailed, collect, plan_input, run_in_order, summary_table

    try:
        inputs = expand_inputs(files, skip=[ack_path] if ack_path else [])
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
                    record = {"path": name, "status": "unreadable", "error": event.error, "issues": []}
                    rows.append([name, "-", "-", "-", "unreadable", "-"])
                    if output_format == "jsonl":
                        emit_jsonl({"kind": "file", **record, "ack": None})
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
                    severity = "" if issue.severity.value == "error" else f"{issue.severity.value}: "
                    say(f"{name}:{issue.segment}: {issue.code} {severity}{issue.message}")
                counts = [
                    counted(result.error_count, "error"),
                    counted(warnings, "warning"),
                    counted(result.interchange_count, "interchange"),
                    counted(result.transaction_count, "transaction"),
                ]
                summary = f"{name}: {result.status.value} ({', '.join(counts[:2])}; {', '.join(counts[2:])})"
                say(summary + (f"; 999 written to {written}" if written else ""))
    except WorkerFailed as problem:
        complain(f"{inputs[problem.file].name}: {problem}; the run stopped")
        sys.exit(EXIT_UNREADABLE)
    except BrokenPipeError:
        silence_stdout()
        sys.exit(max(worst, EXIT_FINDINGS if tally["invalid"] else EXIT_OK))
    progress.clear()
    if output_format == "json":
        click.echo(json.dumps({"files": reports}, indent=2))
    elif output_format == "jsonl":
        emit_jsonl({"kind": "summary", "files": len(inputs), **tally, "exit_code": worst})
    elif len(inputs) > 1 and not quiet:
        for line in summary_table(rows, ["file", "transactions", "errors", "warnings", "status", "999"], "lrrrll"):
            click.echo(line)
        click.echo(f"{counted(len(inputs), 'file')}: {tally['valid']} valid, {tally['invalid']} invalid, {tally['unreadable']} unreadable.")
    sys.exit(worst)


# -- check, rule, rules -----------------------------------------------------------------------
SAMPLE_FILE = "sample-837p.x12"
SAMPLE_MINUTES = "sample-minutes.csv"


def warn(message: str) -> None:
    click.echo(f"edi-rehab: warning: {message}", err=True)


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/edi-rehab``, default ``~/.cache/edi-rehab``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "edi-rehab"


def load_cms_file(path: str, kind: str, keep_codes: frozenset[str]):
    """Parse an official CMS PTP (``kind="ptp"``) or MUE (``"mue"``) file, through the cache.

    The cache entry is keyed by the absolute path, size, mtime_ns and the codes kept, so a
    hook pays the parse once per quarterly file. An unwritable cache folder only means no
    cache. Returns the edits (PTP: a tuple of PtpEdit; MUE: a code -> MueEdit mapping).
    """
    import hashlib

    from . import cms_files

    try:
        resolved = os.path.abspath(path)
        stat = os.stat(resolved)
    except OSError as error:
        raise InputProblem(f"{path}: cannot open: {error.strerror}") from None
    codes_digest = hashlib.sha256(" ".join(sorted(keep_codes)).encode()).hexdigest()[:16]
    key = f"{kind}|{cms_files.CACHE_FORMAT_VERSION}|{resolved}|{stat.st_size}|{stat.st_mtime_ns}|{codes_digest}"
    entry = cache_dir() / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"
    decode = cms_files.decode_ptp_cache if kind == "ptp" else cms_files.decode_mue_cache
    try:
        cached = decode(entry.read_bytes(), key=key)
    except OSError:
        cached = None
    if cached is not None:
        return cached
    data = read_all(path)
    if kind == "ptp":
        load = cms_files.parse_ptp_file(os.path.basename(path), data, keep_codes)
        edits, empty = load.edits, not load.edits
    else:
        load = cms_files.parse_mue_file(os.path.basename(path), data, keep_codes)
        edits, empty = dict(load), not load.rows_read
    if load.problems and empty:
        what = "NCCI PTP" if kind == "ptp" else "MUE"
        raise InputProblem(f"{path}: not a usable CMS {what} file: {load.problems[0]}")
    if load.problems:
        warn(f"{path}: {counted(len(load.problems), 'row')} skipped; first: {load.problems[0]}")
    encode = cms_files.encode_ptp_cache if kind == "ptp" else cms_files.encode_mue_cache
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(str(entry), encode(edits, key=key))
    except OSError:
        pass  # no cache this time
    return edits


def silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file descriptor (a test runner's buffer)


def read_text(path: str) -> str:
    """A small text input (minutes CSV, config): UTF-8, else latin-1 (EMR exports vary)."""
    data = read_all(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def sample_bytes(name: str) -> bytes:
    from importlib import resources

    try:
        return resources.files("edi_rehab.samples").joinpath(name).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        raise InputProblem(f"the bundled sample {name} is missing from this installation") from None


def build_recipe(
    *,
    minutes_path: str | None,
    minutes_text: str | None,
    unit_method: str | None,
    ncci_files: tuple[str, ...],
    mue_file: str | None,
    config_path: str | None,
    select: Iterable[str],
    ignore: Iterable[str],
    rules_off: bool = False,
):
    """Read everything ``check`` needs before reading a claim file (CMS files through the
    cache, config, minutes) into a :class:`~edi_rehab.batch.CheckRecipe`, from which the
    parent and each worker build the same Checker. Returns ``(recipe, config)``. Raises
    InputProblem, MapError or ConfigError, all reported as exit 2."""
    from .batch import CheckRecipe
    from .config import parse_config
    from .engine import parse_codes
    from .ig import PREFIX
    from .mapdata import load_maps
    from .minutes import parse_minutes_csv
    from .rules import registry

    maps = load_maps()
    extra_ptp: list = []
    for path in ncci_files:
        extra_ptp.extend(load_cms_file(path, "ptp", maps.all_codes))
    mue = load_cms_file(mue_file, "mue", maps.all_codes) if mue_file else None
    config = config_text = None
    if config_path is not None:
        config_text = read_text(config_path)
        config = parse_config(config_text, display_name(config_path))
        for code in config.unknown_rule_codes((*registry.CODES, PREFIX)):
            warn(f"{display_name(config_path)}: {code!r} matches no rule code")
    minutes = None
    if minutes_text is not None:
        minutes = parse_minutes_csv(minutes_text, minutes_path or "minutes.csv")
    elif minutes_path is not None:
        minutes = parse_minutes_csv(read_text(minutes_path), display_name(minutes_path))
    recipe = CheckRecipe(
        extra_ptp=tuple(extra_ptp),
        mue=mue,
        config_text=config_text,
        config_source=display_name(config_path) if config_path else "<config>",
        minutes=minutes,
        unit_method=unit_method,
        select=parse_codes(select),
        ignore=parse_codes(ignore),
        rules_off=rules_off,
    )
    return recipe, config


def build_checker(
    *,
    minutes_path: str | None,
    minutes_text: str | None,
    unit_method: str | None,
    ncci_files: tuple[str, ...],
    mue_file: str | None,
    config_path: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
):
    """Everything ``check`` needs before reading a claim file. Raises InputProblem,
    MapError, ConfigError or CheckUsageError, all reported as exit 2."""
    recipe, _ = build_recipe(
        minutes_path=minutes_path,
        minutes_text=minutes_text,
        unit_method=unit_method,
        ncci_files=ncci_files,
        mue_file=mue_file,
        config_path=config_path,
        select=select,
        ignore=ignore,
    )
    return recipe.build()


def _options(*decorators):
    """Apply click options in the order given (top to bottom in --help)."""

    def apply(function):
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


# What decides the findings: every command that reproduces check's findings takes these.
_MINUTES = click.option("--minutes", "minutes_path", metavar="CSV", help="Minutes exported from the EMR: claim_id,line,minutes[,procedure,service_date,time_block].")
_UNIT_METHOD = click.option("--unit-method", type=click.Choice(["cms", "per-code"]), help="8-minute-rule method for every claim, overriding the payer profiles.")
_NCCI = click.option("--ncci-file", "ncci_files", multiple=True, metavar="PATH", help="Official CMS practitioner PTP file (.txt or .zip); repeatable. Parsed once and cached.")
_MUE = click.option("--mue-file", metavar="PATH", help="Official CMS practitioner MUE file (.csv or .zip). Enables N305.")
_CONFIG = click.option("--config", "config_path", metavar="TOML", help="Payer profiles, select/ignore and severity overrides.")
_RULE_DATA = (_MINUTES, _UNIT_METHOD, _NCCI, _MUE, _CONFIG)
_IGNORE = click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rule codes or prefixes (comma-separated; repeatable); added to the config's ignore. The longest matching prefix wins.")

#: The options that decide check's findings; split takes them too.
_check_options = _options(
    click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (comma-separated; repeatable); replaces the config's select. IG codes (IG, IG-IK4-7) narrow --validate."),
    _IGNORE,
    *_RULE_DATA,
    click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error", show_default=True, help="Lowest severity that makes the exit code 1 (split: that holds a claim)."),
    click.option("--validate", "validate_too", is_flag=True, help="Also validate against the implementation guide (pyx12): its errors become IG-... findings (see `edi-rehab rule IG`). Each file is then held in memory."),
    click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes: files run in parallel; large files are split by transaction (findings stay in file order)."),
)


def prepare_check(
    *, select, ignore, validate_too, minutes_path, minutes_text, unit_method, ncci_files, mue_file, config_path
):
    """``(recipe, checker, ig_filter)`` for check and split; exits 2 with a message on any problem."""
    from .config import ConfigError
    from .engine import CheckUsageError, parse_codes
    from .ig import IgFilter, split_codes
    from .mapdata import MapError

    selected = parse_codes(select)
    rule_select, ig_select = split_codes(selected)
    rule_ignore, ig_ignore = split_codes(parse_codes(ignore))
    rules_off = bool(ig_select) and not rule_select
    if (ig_select or ig_ignore) and not validate_too:
        if rules_off:
            fail("--select names only IG codes, which need --validate")
            sys.exit(EXIT_UNREADABLE)
        warn("IG codes in --select/--ignore only matter with --validate")
    try:
        recipe, config = build_recipe(
            minutes_path=minutes_path,
            minutes_text=minutes_text,
            unit_method=unit_method,
            ncci_files=ncci_files,
            mue_file=mue_file,
            config_path=config_path,
            select=rule_select,
            ignore=rule_ignore,
            rules_off=rules_off,
        )
        checker = recipe.build()
    except (InputProblem, MapError, ConfigError, CheckUsageError) as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)
    ig_filter = IgFilter(config, cli_select=selected, cli_ignore=ig_ignore) if validate_too else None
    return recipe, checker, ig_filter


@main.command()
@click.argument("files", nargs=-1)
@click.option("--format", "output_format", type=click.Choice(["text", "json", "jsonl"]), default="text", show_default=True, help="jsonl: one JSON object per file as results come, then a summary object.")
@_check_options
@click.option("--ack", "ack_path", metavar="PATH", help="With --validate: write the 999 to PATH; with several FILES or a folder, PATH is a folder and each gets <name>.999.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are at or above --fail-on (2 still means unreadable).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary table.")
@click.option("--sample", is_flag=True, help="Check the bundled synthetic sample with its minutes file.")
def check(
    files: tuple[str, ...],
    output_format: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    minutes_path: str | None,
    unit_method: str | None,
    ncci_files: tuple[str, ...],
    mue_file: str | None,
    config_path: str | None,
    fail_on: str,
    validate_too: bool,
    jobs: int,
    ack_path: str | None,
    exit_zero: bool,
    quiet: bool,
    sample: bool,
) -> None:
    """Run the therapy billing rules on 837P FILES (- for standard input).

    Prints FILE:SEGMENT: CODE message [claim, line, procedure] per finding and a summary.
    A FILE that is a folder stands for every regular file below it, in name order, hidden
    files and folders skipped; with several files a table sums them up. Exit 0 when nothing
    is at or above --fail-on, 1 when something is, 2 when an input, map or config cannot be
    read (or, with --validate, a file could not be validated) or the options make no sense;
    the worst file wins.
    """
    from .batch import Findings, WorkerFailed, collect, note_seen_claims, plan_input, run_in_order
    from .findings import Severity
    from .report import FileReport, Summary, render_json, render_text

    minutes_text = None
    if ack_path and not validate_too:
        fail("--ack writes the 999 of --validate; add --validate")
        sys.exit(EXIT_UNREADABLE)
    if sample:
        if files or minutes_path:
            fail("--sample checks the bundled sample with its own minutes; give no FILE and no --minutes")
            sys.exit(EXIT_UNREADABLE)
        try:
            data = sample_bytes(SAMPLE_FILE)
            inputs = [Input(SAMPLE_FILE, SAMPLE_FILE, len(data), data=data)]
            minutes_text = sample_bytes(SAMPLE_MINUTES).decode("utf-8")
        except InputProblem as problem:
            fail(str(problem))
            sys.exit(EXIT_UNREADABLE)
        minutes_path = SAMPLE_MINUTES
    else:
        if not files:
            fail("check needs at least one FILE (or - for standard input, or --sample)")
            sys.exit(EXIT_UNREADABLE)
        try:
            inputs = expand_inputs(files, skip=[ack_path] if ack_path else [])
        except InputProblem as problem:
            fail(str(problem))
            sys.exit(EXIT_UNREADABLE)
    try:
        targets = ack_targets(inputs, ack_path)
    except InputProblem as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)

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
    )
    threshold = Severity(fail_on)
    progress = Progress(len(inputs), total_size(inputs), enabled=not quiet)
    finished: list = []
    seen_claims: set[str] = set()

    def finish(result) -> None:
        """An input is done: say why it is unreadable, write its 999, remember it for the table."""
        progress.clear()
        if result.error is not None:
            fail(result.error)
        validation = result.validation
        result.ack = None
        if validation is not None:
            for note in validation.notes:
                fail(f"{result.name}: {note}")
            target = targets.get(result.index)
            if target and validation.ack_999 is not None:
                result.ack = write_ack(target, validation.ack_999)
                if result.ack is None:
                    result.error = result.error or f"{target}: the 999 could not be written"
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
        return collect(ordered, lambda i: (inputs[i].name, inputs[i].size), buffer=output_format == "jsonl", ig=ig_filter)

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
        with worker_pool(jobs, recipe) as pool:
            if output_format == "jsonl":
                run_jsonl(events(pool), finish, leftovers, finished, threshold, summary, checker, exit_zero)
            elif output_format == "json":
                for piece in render_json(reports(events(pool)), summary):
                    click.echo(piece, nl=False)
            else:
                # One line behind: the last line is the summary, and the table goes before it.
                previous = None
                for text in render_text(reports(events(pool)), summary):
                    if previous is not None:
                        progress.clear()
                        click.echo(previous)
                    previous = text
                progress.clear()
                if len(finished) > 1 and not quiet:
                    for line in check_table(finished, threshold, validate_too):
                        click.echo(line)
                click.echo(previous)
    except WorkerFailed as problem:
        progress.clear()
        fail(f"{inputs[problem.file].name}: {problem}; the run stopped")
        sys.exit(EXIT_UNREADABLE)
    except BrokenPipeError:
        # The reader went away (`check big.x12 | head`): stop quietly, as other linters do.
        silence_stdout()
        sys.exit(EXIT_FINDINGS if summary.total else EXIT_OK)
    progress.clear()
    sys.exit(check_exit_code(summary, finished, threshold, exit_zero))


def check_exit_code(summary, finished: list, threshold, exit_zero: bool) -> int:
    if summary.unreadable or any(r.error for r in finished):
        return EXIT_UNREADABLE
    if not exit_zero and summary.at_or_above(threshold):
        return EXIT_FINDINGS
    return EXIT_OK


def check_table(results: list, threshold, validated: bool) -> list[str]:
    from .batch import check_status, summary_table

    header = ["file", "claims", "errors", "warnings", "info", "result"] + (["IG"] if validated else [])
    align = "lrrrrl" + ("l" if validated else "")
    rows = []
    for r in results:
        row = [r.name, str(r.claims), str(r.counts["error"]), str(r.counts["warning"]), str(r.counts["info"]), check_status(r, threshold)]
        if validated:
            row.append(r.validation.status.value if r.validation is not None else "-")
        rows.append(row)
    return summary_table(rows, header, align)


def run_jsonl(stream, finish, leftovers, finished, threshold, summary, checker, exit_zero: bool) -> None:
    """``check --format jsonl``: one object per input as it finishes (input order), the
    minutes CSV's own findings as one more, then a summary object."""
    from .batch import Findings, check_status
    from .report import finding_json

    held: list = []
    for event in stream:
        if isinstance(event, Findings):
            held = list(event.findings)
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
    emit_jsonl({"kind": "summary", "files": summary.files, "unreadable": summary.unreadable, "counts": summary.counts, "fail_on": threshold.value, "exit_code": check_exit_code(summary, finished, threshold, exit_zero)})


# -- split --------------------------------------------------------------------------------------
def write_together(files: list[tuple[str, bytes | None]]) -> None:
    """Write several files so that a failure leaves none of them changed.

    Each is written with :func:`write_atomically`; the later ones run inside the earlier
    one's ``keep`` callback, so every file is complete in its temporary before the first
    rename, and an error while writing any of them removes every temporary. ``None``
    removes a file left by an earlier run (an output that is empty this time).
    """
    writes = [(path, data) for path, data in files if data is not None]

    def chain(index: int) -> bool:
        if index == len(writes):
            return True
        path, data = writes[index]
        return write_atomically(path, data, keep=lambda: chain(index + 1))

    chain(0)
    for path, data in files:
        if data is None and os.path.lexists(path):
            os.unlink(path)


@main.command("split")
@click.argument("file")
@click.option("--clean", "clean_path", required=True, metavar="OUT", help="The 837P of the claims with no finding at or above --fail-on.")
@click.option("--held", "held_path", required=True, metavar="OUT2", help="The 837P of the claims held back.")
@click.option("--report", "report_path", metavar="PATH", help="Also write why each claim was held, as JSON, to PATH.")
@click.option("--ack", "ack_path", metavar="PATH", help="With --validate: write the 999 for FILE as submitted to PATH (with the outputs).")
@click.option("--control-number", type=click.IntRange(1, 999_999_999), help="ISA13/GS06 of the first output interchange, +1 for each next one (clean first, then held) [default: YYDDDHHMM from the clock].")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="json: print the report (as --report writes it).")
@_check_options
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
    config_path: str | None,
    fail_on: str,
    validate_too: bool,
    jobs: int,
) -> None:
    """Write the claims of the 837P FILE that pass the check to OUT, and the rest to OUT2.

    A claim is held when a finding at or above --fail-on lands on it: on the claim itself,
    on the HL loops it hangs from, or on the transaction header or ISA/GS that the outputs
    copy (with --validate, implementation-guide errors count too; --jobs then runs the
    validation in parallel). Both outputs are complete 837P files: every segment of each
    claim and its parents byte for byte, HL renumbered, SE01/GE01/IEA01 counted, fresh
    ISA13/GS06/ST02. Together they hold every claim of FILE exactly once. An output with no
    claims is not written (an older file at its path is removed). FILE may be - for
    standard input.

    Prints each held claim with its reasons (or the JSON report with --format json). Exit 0
    when no claim was held, 1 when some were (both files written), 2 when FILE cannot be
    read, is not an 837P, holds no claims or cannot be validated, or an output cannot be
    written: nothing is written then.
    """
    from datetime import datetime

    from .batch import note_seen_claims, why_not_validated
    from .findings import Severity
    from .ig import ig_findings
    from .report import finding_json, text_line
    from .split import SplitError, Splitter, hold_at_or_above

    def usage(message: str) -> None:
        fail(message)
        sys.exit(EXIT_UNREADABLE)

    if ack_path and not validate_too:
        usage("--ack writes the 999 of --validate; add --validate")
    outputs = [clean_path, held_path] + [p for p in (report_path, ack_path) if p]
    if len({os.path.realpath(p) for p in outputs}) != len(outputs):
        usage("--clean, --held, --report and --ack must be different files")
    if file != "-" and any(_same_file(file, p) for p in outputs if os.path.exists(p)):
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
    )
    threshold = Severity(fail_on)
    name = display_name(file)
    start = control_number or int(datetime.now().strftime("%y%j%H%M"))
    ack = None
    try:
        extra: list = []
        chunks: Iterable[bytes]
        if validate_too:
            from .validate import validate_bytes

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
            chunks = read_chunks(file)
        splitter = Splitter(hold=hold_at_or_above(threshold), control_start=start, extra=extra)
        for result in checker.check_events(iter_events(chunks)):
            splitter.add(result)
        outcome = splitter.finish()
    except InputProblem as problem:
        usage(f"{problem}; nothing was written")
    except X12ReadError as error:
        usage(f"{unreadable(file, error)}; nothing was written")
    except SplitError as error:
        usage(f"{name}: {error}; nothing was written")
    if not outcome.claims:
        usage(f"{name}: holds no claims; nothing was written")
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
    document = json.dumps(report, indent=2) + "\n"
    files: list[tuple[str, bytes | None]] = [(clean_path, clean.data or None), (held_path, held.data or None)]
    if report_path:
        files.append((report_path, document.encode("utf-8")))
    if ack_path and ack is not None:
        # latin-1: pyx12 was fed one character per byte (see write_ack).
        files.append((ack_path, ack.encode("latin-1")))
    try:
        write_together(files)
    except OSError as error:
        usage(f"cannot write {error.filename or 'an output'}: {error.strerror or error}; nothing was written")
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
        where += f"; 999 in {ack_path}" if ack_path and ack is not None else ""
        click.echo(f"{name}: {side(clean, clean_path, 'clean')}, {side(held, held_path, 'held')}{where}.")
    sys.exit(EXIT_FINDINGS if held.claims else EXIT_OK)


# -- fix --------------------------------------------------------------------------------------
def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


@main.command("fix")
@click.argument("file")
@click.option("-o", "--output", "output", metavar="OUT", help="Write the fixed file to OUT (a temporary file in OUT's folder, then renamed).")
@click.option("--in-place", is_flag=True, help="Rewrite FILE itself, keeping the original as FILE.orig.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff, one segment per line, and write nothing.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply unsafe fixes: they change what is billed.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (comma-separated; repeatable). U102's fix needs U102 named here.")
@_options(_IGNORE, *_RULE_DATA)
@click.option("--minutes-out", metavar="CSV", help="Also write the minutes CSV renumbered to follow lines that fix removed.")
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
    config_path: str | None,
) -> None:
    """Apply the fixes for check's findings to the 837P FILE and write the result.

    Every byte outside the fixed elements stays as it was. Safe fixes (modifier order,
    duplicate modifiers, envelope counts) apply by default; unsafe ones (units, charges,
    modifiers that unlock payment) only with --unsafe-fixes, and U102's (raising units) only
    when U102 is also named in --select. FILE may be - for standard input (not with
    --in-place). Exit 0 when no error finding remains in the output, 1 when one does, 2 when
    FILE cannot be read as X12 or an option or its file is unusable; nothing is written then.
    """
    from .config import ConfigError
    from .engine import CheckUsageError
    from .fixes import FixOptions, Fixer, explicit_codes, remap_minutes_csv, render_diff, render_report
    from .mapdata import MapError

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
    if output and not show_diff and file != "-" and _same_file(file, output):
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
        )
    except (InputProblem, MapError, ConfigError, CheckUsageError) as problem:
        usage(str(problem))
    fixer = Fixer(checker, FixOptions(unsafe=unsafe_fixes, explicit=explicit_codes(checker.config.select)))
    changed = False

    def fixed_events():
        nonlocal changed
        for fixed in fixer.fix_events(iter_events(read_chunks(file))):
            changed = changed or fixed.changed
            yield fixed

    def keep() -> bool:
        if in_place and not changed:
            return False
        if in_place and os.path.lexists(backup):
            raise InputProblem(f"{backup} already exists (an earlier backup); move it away first; {name} was not changed")
        return True

    written = False
    try:
        if show_diff:
            for line in render_diff(fixed_events(), name, f"{name} (fixed)"):
                click.echo(line, nl=False)
        else:
            written = write_atomically(target, (f.data for f in fixed_events()), backup=in_place, keep=keep)  # type: ignore[arg-type]
    except InputProblem as problem:
        usage(str(problem))
    except X12ReadError as error:
        usage(f"{unreadable(file, error)}; fix refuses input it cannot read, so nothing was written")
    except OSError as error:
        usage(f"{target}: cannot write: {error.strerror or error}")
    report = fixer.finish()

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

    out_name = display_name(target) if target and not show_diff else f"{name} (fixed)"
    if output_format == "json":
        document = {"input": name, "output": None if show_diff else target, "written": written, **report.to_json()}
        click.echo(json.dumps(document, indent=2))
    else:
        for line in render_report(report, name, out_name):
            click.echo(line, err=show_diff)
        if in_place and not written:
            click.echo(f"{name}: nothing to change; left as it was.")
    sys.exit(EXIT_FINDINGS if report.errors_remaining else EXIT_OK)


@main.command()
@click.argument("code")
def rule(code: str) -> None:
    """Print the documentation of one rule (e.g. edi-rehab rule U101, or rule IG for the
    implementation-guide findings of check --validate)."""
    import difflib

    from . import ig
    from .rules import registry

    if ig.is_ig_code(code):
        click.echo(ig.DOC, nl=False)
        return
    from .match import MISSING_KX, MISSING_KX_DOC

    if code.strip().upper() == MISSING_KX:
        click.echo(f"{MISSING_KX} benefit-limit-without-kx (match only, no fix)\n")
        click.echo(MISSING_KX_DOC, nl=False)
        return
    found = registry.get(code)
    if found is None:
        matches = registry.matching(code) or tuple(
            registry.BY_CODE[c] for c in difflib.get_close_matches(code.strip().upper(), registry.CODES, n=3)
        )
        hint = f"; did you mean {', '.join(r.code for r in matches[:8])}?" if matches else "; see `edi-rehab rules`"
        fail(f"no rule {code!r}{hint}")
        sys.exit(EXIT_UNREADABLE)
    fix = f"{found.fix.value} fix" if found.fix else "no fix"
    click.echo(f"{found.code} {found.name} ({found.severity.value}, {fix})\n")
    click.echo(found.doc)


@main.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules(output_format: str) -> None:
    """List every rule: code, default severity, fix, name and summary; last, the IG family
    that check --validate adds (implementation-guide errors from pyx12) and R501, the cause
    only match can name (a 119 denial on a line without KX)."""
    from . import ig
    from .rules import registry

    from .match import explanation_json

    if output_format == "json":
        document = {
            "rules": [r.to_json() for r in registry.RULES],
            "families": [ig.family_json()],
            "remittance": [explanation_json()],
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    for r in registry.RULES:
        fix = r.fix.value if r.fix else "-"
        click.echo(f"{r.code}  {r.severity.value:<7}  {fix:<6}  {r.name:<34}  {r.summary}")
    for extra in (ig.family_json(), explanation_json()):
        click.echo(f"{extra['code']:<4}  {extra['severity']:<7}  {'-':<6}  {extra['name']:<34}  {extra['summary']}")


# -- match, appeal ----------------------------------------------------------------------------
#: The options match and appeal share with check (so the findings are reproduced).
_match_options = _options(
    *_RULE_DATA,
    click.option("--carc-file", metavar="CSV", help="Official CARC list as CSV: code,description (header optional, extra columns ignored)."),
    click.option("--rarc-file", metavar="CSV", help="Official RARC list as CSV: code,description (header optional, extra columns ignored)."),
)


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


def run_match(remit: str, claims: tuple[str, ...], *, minutes_path, unit_method, ncci_files, mue_file, config_path, carc_file, rarc_file):
    """Read the inputs and match them. Every problem is reported here; exits 2 on any."""
    from .config import ConfigError
    from .engine import CheckUsageError
    from .mapdata import MapError
    from .match import ClaimIndex, CodeBook, CodeListError, WrongFileType, index_claim_file, match_remittances, parse_code_list, read_remittance_file

    try:
        if ([remit, *claims]).count("-") > 1:
            raise InputProblem("standard input (-) can be read only once")
        checker = build_checker(
            minutes_path=minutes_path,
            minutes_text=None,
            unit_method=unit_method,
            ncci_files=ncci_files,
            mue_file=mue_file,
            config_path=config_path,
            select=(),
            ignore=(),
        )
        lists = []
        for path in (carc_file, rarc_file):
            lists.append(parse_code_list(read_text(path), display_name(path)) if path else None)
        for code_list in lists:
            for row, message in code_list.problems if code_list else ():
                warn(f"{code_list.source}:{row}: {message}; row skipped")
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
        index = ClaimIndex()
        for name, data in claim_inputs:
            try:
                if not index_claim_file(index, name, iter_events([data]), checker):
                    warn(f"{name}: holds no claims")
            except X12ReadError as error:
                raise InputProblem(unreadable(name, error)) from None
        if checker.minutes is not None:
            for problem in checker.minutes.problems:
                warn(f"{checker.minutes.source}:{problem.row}: {problem.message}")
    except (InputProblem, MapError, ConfigError, CheckUsageError, CodeListError, WrongFileType) as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)
    codes = CodeBook(checker.maps, lists[0], lists[1])
    return match_remittances([(remit_name, r) for r in remits], index, codes, minutes=checker.minutes), checker.maps


@main.command("match")
@click.argument("remit")
@click.argument("claims", nargs=-1, required=True)
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
@_match_options
def match_command(remit: str, claims: tuple[str, ...], output_format: str, **options) -> None:
    """Match every service payment of the 835 REMIT to its line in the 837P CLAIMS.

    Each payment gets its decoded adjustments and remarks, a category, the check findings
    that explain a denial and a recommended action; 835 claims with no 837 claim are listed
    as unmatched, and an 835 that does not balance is reported. REMIT or one CLAIMS file may
    be - for standard input. Exit 0, or 2 when an input cannot be read or is the wrong kind.
    """
    from .match import render_csv, render_text

    result, _ = run_match(remit, claims, **options)
    if output_format == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    elif output_format == "csv":
        # Bytes, so the BOM and the CSV's CRLF line ends reach the file as written.
        sys.stdout.flush()
        sys.stdout.buffer.write(b"\xef\xbb\xbf" + render_csv(result).encode("utf-8"))
        sys.stdout.buffer.flush()
    else:
        for line in render_text(result):
            click.echo(line)
    sys.exit(EXIT_OK)


def _inside(folder: Path, target: Path) -> bool:
    try:
        target.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


@main.command("appeal")
@click.argument("remit")
@click.argument("claims", nargs=-1, required=True)
@click.option("-o", "--output", "output", required=True, metavar="DIR", help="Folder for the packets and index.json (created when missing).")
@click.option("--control-number", type=click.IntRange(1, 999_999_999), help="ISA13/GS06 of the first replacement claim, +1 for each next one [default: YYDDDHHMM from the clock].")
@click.option("--date", "letter_date", metavar="YYYY-MM-DD", help="Date on the letters [default: today].")
@_match_options
def appeal_command(remit: str, claims: tuple[str, ...], output: str, control_number: int | None, letter_date: str | None, **options) -> None:
    """Write an appeal packet for each claim of REMIT still denied after matching it to CLAIMS.

    Each DIR/NNN-<claim>/ holds letter.md and letter.html (the decoded reasons, the cause,
    the rule and source supporting the billing, a documentation checklist) and, when a
    correction resolves the denial, replacement-837p.x12. DIR/index.json lists them with
    paths relative to DIR. Exit 0, or 2 when an input cannot be read or DIR cannot be written.
    """
    from datetime import date, datetime

    from .appeal import build_packets, index_json

    try:
        today = date.fromisoformat(letter_date) if letter_date else date.today()
    except ValueError:
        fail(f"--date {letter_date!r} is not a date (YYYY-MM-DD)")
        sys.exit(EXIT_UNREADABLE)
    start = control_number or int(datetime.now().strftime("%y%j%H%M"))
    result, maps = run_match(remit, claims, **options)
    packets = build_packets(result, maps, today=today, control_start=start)
    folder = Path(output)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for packet in packets.packets:
            target = folder / packet.folder
            if target.is_symlink() or not _inside(folder, target):
                raise InputProblem(f"{target}: is a link or lies outside {output}; refusing to write there")
            target.mkdir(exist_ok=True)
            files = {"letter.md": packet.letter_markdown.encode("utf-8"), "letter.html": packet.letter_html.encode("utf-8")}
            if packet.replacement is not None:
                files["replacement-837p.x12"] = packet.replacement
            for name, data in files.items():
                path = target / name
                if path.is_symlink() or not _inside(folder, path):
                    raise InputProblem(f"{path}: is a link or lies outside {output}; refusing to write there")
                write_atomically(str(path), data)
        write_atomically(str(folder / "index.json"), (json.dumps(index_json(packets), indent=2) + "\n").encode("utf-8"))
    except InputProblem as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)
    except OSError as error:
        fail(f"{output}: cannot write: {error.strerror or error}")
        sys.exit(EXIT_UNREADABLE)
    for packet in packets.packets:
        extra = f", replacement claim (frequency {packet.frequency})" if packet.replacement is not None else ""
        click.echo(f"{folder / packet.folder}: claim {packet.claim_id} lines {', '.join(map(str, packet.lines)) or '-'}: {', '.join(packet.actions)}{extra}")
        for note in packet.notes:
            click.echo(f"    note: {note}")
    for item in packets.skipped:
        click.echo(f"no packet for claim {item.claim_id}: {', '.join(item.actions)}")
    click.echo(f"{counted(len(packets.packets), 'packet')} written to {output} ({sum(p.replacement is not None for p in packets.packets)} with a replacement claim); index.json lists them.")
    sys.exit(EXIT_OK)
