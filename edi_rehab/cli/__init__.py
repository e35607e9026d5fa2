"""The command line: the only package that opens files, reads stdin, prints and sets exit codes.

One module per command (``check.py``, ``fix.py``, ...); what they share lives beside them:
``files.py`` (reading inputs, atomic writes), ``inputs.py`` (files, folders, stdin),
``options.py`` (shared options and building the Checker), ``output.py`` (exit codes and
messages), ``progress.py`` (progress line, worker pool), ``acks.py`` (where 999s go).

Commands are imported when they are run, not when the program starts, so ``edi-rehab rule
U101`` or ``--help`` pays only for what it uses (a clearinghouse hook starts a process per
file). Exit codes are in :mod:`edi_rehab.cli.output`.
"""

from __future__ import annotations

import sys
from importlib import import_module

import click

from .. import __version__

#: command name -> (module in this package, function): the order is the order of --help.
COMMANDS = {
    "show": ("show", "show"),
    "check": ("check", "check"),
    "fix": ("fix", "fix_command"),
    "split": ("split", "split_command"),
    "validate": ("validate", "validate"),
    "match": ("match", "match_command"),
    "appeal": ("appeal", "appeal_command"),
    "rule": ("rules", "rule"),
    "rules": ("rules", "rules"),
}


class LazyCommands(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        where = COMMANDS.get(name)
        if where is None:
            return None
        module, function = where
        return getattr(import_module(f"{__name__}.{module}"), function)

    def invoke(self, ctx: click.Context):
        """Run the command; a reader that went away (``check big.x12 | head -1``) ends the
        run quietly, for every command, here and only here."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            from .output import EXIT_FINDINGS, silence_stdout

            silence_stdout()
            # Not 0: the output was cut short, so the run cannot count as a pass.
            sys.exit(EXIT_FINDINGS)


@click.group(cls=LazyCommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edi-rehab")
def main() -> None:
    """Check, fix and trace X12 837P/835 files for PT, OT and SLP billing."""
