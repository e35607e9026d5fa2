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
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click

from . import __version__
from .inventory import describe_event, render_text
from .x12 import X12ReadError
from .x12.document import iter_events

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_UNREADABLE = 2

#: Read size for streaming input; bounded so memory stays flat on large files.
CHUNK_SIZE = 1 << 20


class InputProblem(Exception):
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


def write_atomically(path: str, data: bytes, *, backup: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    A crash leaves either the old file or the new one, never a half-written file.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if backup and target.exists():
            os.replace(target, target.with_name(target.name + ".orig"))
        os.replace(temp_name, target)
    except BaseException:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise


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
            for event in iter_events(read_chunks(path)):
                described = describe_event(event)
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
