"""`edi-rehab appeal`: an appeal packet per denied claim."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .files import InputProblem, inside, write_atomically
from .match import SAMPLE_OPTION, run_match, sample_arguments
from .options import match_options
from .output import EXIT_OK, EXIT_UNREADABLE, counted, fail


@click.command("appeal")
@click.argument("remit", required=False)
@click.argument("claims", nargs=-1)
@click.option("-o", "--output", "output", required=True, metavar="DIR", help="Folder for the packets and index.json (created when missing).")
@click.option("--control-number", type=click.IntRange(1, 999_999_999), help="ISA13/GS06 of the first replacement claim, +1 for each next one [default: YYDDDHHMM from the clock].")
@click.option("--date", "letter_date", metavar="YYYY-MM-DD", help="Date on the letters [default: today].")
@click.option("--pdf", "with_pdf", is_flag=True, help="Also write letter.pdf (needs the pdf extra: pip install 'edi-rehab[pdf]').")
@SAMPLE_OPTION
@match_options
def appeal_command(
    remit: str | None,
    claims: tuple[str, ...],
    output: str,
    control_number: int | None,
    letter_date: str | None,
    with_pdf: bool,
    sample: bool,
    **options,
) -> None:
    """Write an appeal packet for each claim of REMIT still denied after matching it to CLAIMS.

    Each DIR/NNN-<claim>/ holds letter.md and letter.html (with --pdf, letter.pdf too;
    addressed to the payer: the
    decoded reasons, the review, the rule and source supporting the billing), checklist.md
    (what to do before sending it: evidence to gather, placeholders to fill; also printed
    here) and, when a
    correction resolves the denial, replacement-837p.x12 (never for a payer whose correction
    route is a reopening, such as Medicare Part B: its letter is the reopening request).
    DIR/index.json lists them with paths relative to DIR. --sample writes the packets of
    the bundled synthetic 835 and 837P. Exit 0, or 2 when an input cannot be read or DIR cannot be written.
    """
    from datetime import date, datetime

    from ..appeal import PdfUnavailable, build_packets, index_json, letter_pdf, require_pdf

    if with_pdf:
        try:  # before any work: a missing library is a usage error, not a half-written folder
            require_pdf()
        except PdfUnavailable as problem:
            fail(str(problem))
            sys.exit(EXIT_UNREADABLE)

    try:
        today = date.fromisoformat(letter_date) if letter_date else date.today()
    except ValueError:
        fail(f"--date {letter_date!r} is not a date (YYYY-MM-DD)")
        sys.exit(EXIT_UNREADABLE)
    start = control_number or int(datetime.now().strftime("%y%j%H%M"))
    sample_arguments(remit, claims, sample, options["minutes_path"], "appeal")
    result, maps, config = run_match(remit, claims, sample=sample, command="appeal", **options)
    packets = build_packets(result, maps, today=today, control_start=start, practice=config.practice if config is not None else None)
    folder = Path(output)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for packet in packets.packets:
            target = folder / packet.folder
            if target.is_symlink() or not inside(folder, target):
                raise InputProblem(f"{target}: is a link or lies outside {output}; refusing to write there")
            target.mkdir(exist_ok=True)
            files = {
                "letter.md": packet.letter_markdown.encode("utf-8"),
                "letter.html": packet.letter_html.encode("utf-8"),
                "checklist.md": packet.checklist_markdown.encode("utf-8"),
            }
            if with_pdf:
                files["letter.pdf"] = letter_pdf(packet.letter_html)
            if packet.replacement is not None:
                files["replacement-837p.x12"] = packet.replacement
            for name, data in files.items():
                path = target / name
                if path.is_symlink() or not inside(folder, path):
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
        lines = ("line " if len(packet.lines) == 1 else "lines ") + (", ".join(map(str, packet.lines)) or "-")
        click.echo(f"{folder / packet.folder}: claim {packet.claim_id} {lines}: {', '.join(packet.actions)}{extra}")
        for item in packet.checklist:
            click.echo(f"    to do: {item}")
        if packet.documents:
            click.echo(f"    to gather: {len(packet.documents)} documents, listed in {folder / packet.folder / 'checklist.md'}")
    for item in packets.skipped:
        click.echo(f"no packet for claim {item.claim_id}: {', '.join(item.actions)}")
    click.echo(f"{counted(len(packets.packets), 'packet')} written to {output} ({sum(p.replacement is not None for p in packets.packets)} with a replacement claim); index.json lists them.")
    sys.exit(EXIT_OK)
