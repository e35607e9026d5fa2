"""`edi-rehab show`: what a file holds."""

from __future__ import annotations

import json
import sys

import click

from ..gcpause import each_with_collector_paused
from ..inventory import describe_event, render_text
from ..x12 import X12ReadError
from ..x12.document import iter_events
from .files import InputProblem, display_name, read_chunks
from .output import EXIT_OK, EXIT_UNREADABLE, fail, unreadable


@click.command("show")
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
