"""The command line: the only package that opens files, reads stdin, prints and sets exit codes.

One module per command (``check.py``, ``fix.py``, ...); what they share lives beside them:
``files.py`` (reading inputs, atomic writes), ``inputs.py`` (files, folders, stdin),
``options.py`` (shared options and building the Checker), ``config_file.py`` (which config
file is read), ``output.py`` (exit codes and messages), ``colour.py`` (``--color``),
``progress.py`` (progress line, worker pool), ``acks.py`` (where 999s go).

Commands are imported when they are run, not when the program starts, so ``edi-rehab rule
U101`` or ``--help`` pays only for what it uses (a clearinghouse hook starts a process per
file). Exit codes are in :mod:`edi_rehab.cli.output`.
"""

from __future__ import annotations

import sys
from importlib import import_module

import click

from .. import __version__

#: command name -> (module in this package, function, the line ``--help`` shows for it).
#: The order is the order of --help. The summary lives here, not only in the command's
#: docstring, so that ``edi-rehab --help`` lists the commands without importing any of them.
COMMANDS = {
    "show": ("show", "show", "List the envelopes, claims and lines or payments in files."),
    "check": ("check", "check", "Run the therapy billing rules on 837P files."),
    "fix": ("fix", "fix_command", "Apply the fixes for check's findings to a file."),
    "split": ("split", "split_command", "Write the claims that pass the check apart from the rest."),
    "validate": ("validate", "validate", "Validate files against their implementation guide (999/997)."),
    "match": ("match", "match_command", "Match each service payment of an 835 to its 837P line."),
    "appeal": ("appeal", "appeal_command", "Write appeal packets for the claims an 835 still denies."),
    "report": ("report", "report_command", "Denial rates and rule precision from the claim ledger."),
    "rekey": ("rekey", "rekey_command", "Rotate the claim ledger's patient key."),
    "rule": ("rules", "rule", "Print the documentation of one rule."),
    "rules": ("rules", "rules", "List every rule with its severity, fix and summary."),
    "spark": ("spark", "spark_group", "Run check or match as an Apache Spark job writing Parquet tables."),
}


#: Commands whose start-up goes on after their module is imported: they end it themselves
#: (``options.prepare_check``), so the collector stays paused while they build the checker.
START_UP_ENDS_IN_COMMAND = frozenset({"check", "split"})


class LazyCommands(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        where = COMMANDS.get(name)
        if where is None:
            return None
        module, function, _summary = where
        command = getattr(import_module(f"{__name__}.{module}"), function)
        if name not in START_UP_ENDS_IN_COMMAND:
            from ..gcpause import end_of_start_up

            end_of_start_up()
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, summary) for name, (_module, _function, summary) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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
