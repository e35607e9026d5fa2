"""Colour in text output: ``--color auto|always|never``.

``auto`` (the default) colours only when standard output is a terminal and ``NO_COLOR`` is
unset or empty (https://no-color.org: any non-empty value turns colour off); a pipe, a file
or a CI log never gets escape codes. ``always`` colours even then (and wins over
``NO_COLOR``: an explicit option beats the environment); ``never`` never colours.

What is coloured is each finding's severity and code (red errors, yellow warnings, cyan
info), its path (bold) and the fix marks (``[*]`` green, ``[~]`` yellow); the words stay the
same, so colour carries nothing the plain text does not.
"""

from __future__ import annotations

import os
import sys

import click

COLOR_CHOICES = ("auto", "always", "never")

COLOR_OPTION = click.option(
    "--color",
    "color",
    type=click.Choice(COLOR_CHOICES),
    default="auto",
    show_default=True,
    help="Colour severities, codes and fix marks: auto when standard output is a terminal and NO_COLOR is not set.",
)

#: role (see edi_rehab.report.Style) -> click.style arguments
ROLE_STYLES = {
    "error": {"fg": "red", "bold": True},
    "warning": {"fg": "yellow", "bold": True},
    "info": {"fg": "cyan", "bold": True},
    "path": {"bold": True},
    "safe": {"fg": "green", "bold": True},
    "unsafe": {"fg": "yellow"},
}


def wants_colour(choice: str) -> bool:
    """Whether text written to standard output is coloured under ``--color choice``."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    # click's own test (a terminal, not a pipe); looked up at call time because click's
    # CliRunner(color=...) replaces it, which is how the tests ask for a terminal.
    from click import utils

    return not utils.should_strip_ansi(sys.stdout)


def colour_style(text: str, role: str) -> str:
    return click.style(text, **ROLE_STYLES.get(role, {}))
