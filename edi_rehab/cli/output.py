"""What every command says and how it ends: exit codes, messages on stderr, JSON lines.

Exit codes, shared by every command:

* 0: nothing at or above the failing severity;
* 1: findings at or above it (``check``), errors left (``fix``), invalid (``validate``);
* 2: unreadable input or a usage error, always with a message and never a traceback.

Across several files the worst code wins. A closed pipe (``check big.x12 | head -1``) ends
the run quietly with 1: the output was cut short, so it is not a pass (the command line's
entry handles it for every command).
"""

from __future__ import annotations

import os
import sys

import click

from ..x12 import X12ReadError
from .files import display_name

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_UNREADABLE = 2


def fail(message: str) -> None:
    click.echo(f"edi-rehab: {message}", err=True)


def warn(message: str) -> None:
    click.echo(f"edi-rehab: warning: {message}", err=True)


def unreadable(path: str, error: X12ReadError) -> str:
    return f"{display_name(path)}: {error}"


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def emit_jsonl(record: dict, envelope: dict | None = None) -> None:
    """One JSON Lines record, flushed: ``schema_version`` on every one, the whole envelope
    on the summary (``renderers.render_jsonl_record``)."""
    from ..renderers import render_jsonl_record

    click.echo(render_jsonl_record(record, envelope))
    sys.stdout.flush()


def emit_json(command: str, body: dict, maps) -> None:
    """A command's JSON document on stdout: the shared envelope, then ``body``."""
    click.echo(json_document(command, body, maps), nl=False)


def json_document(command: str, body: dict, maps) -> str:
    """The text of a command's JSON document (for stdout or a report file): the envelope,
    then ``body``."""
    from ..renderers import render_json_document

    return render_json_document(envelope_for(command, maps), body)


def envelope_for(command: str, maps) -> dict:
    """The envelope of ``command``'s JSON, its tool object naming ``maps`` (the Maps the run used)."""
    from ..renderers import json_envelope, tool_json

    return json_envelope(command, tool_json(maps))


def silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file descriptor (a test runner's buffer)
