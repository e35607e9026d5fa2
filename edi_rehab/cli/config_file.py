"""Which configuration file a run reads: ``--config``, or one found from the working directory.

As ruff finds its configuration, with this precedence:

1. ``--config FILE`` (the whole file is the configuration);
2. else, from the working directory upward, the first folder that has an ``edi-rehab.toml``
   (the whole file) or a ``pyproject.toml`` with a ``[tool.edi-rehab]`` table (that table);
   a folder with both uses ``edi-rehab.toml``. A ``pyproject.toml`` without the table is
   passed over, as ruff passes over one without ``[tool.ruff]``;
3. else no configuration (the shipped maps alone).

The search stops at the filesystem root and at the first folder that holds ``.git`` (a
folder, or a file in a worktree or submodule): a repository's configuration never comes
from above it. ``--isolated`` reads no configuration file at all (ruff's flag of that name);
it cannot be combined with ``--config``. A found file that cannot be read or parsed stops the
run with exit 2 and the file's name, as a ``--config`` file does: a hook whose rules quietly
changed would be worse.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import click

CONFIG_FILE = "edi-rehab.toml"
PYPROJECT = "pyproject.toml"
#: the table of a pyproject.toml that holds the configuration
PYPROJECT_TABLE = ("tool", "edi-rehab")
_ISOLATED = "edi_rehab.isolated"


@dataclass(frozen=True, slots=True)
class ConfigChoice:
    """The configuration a run reads: ``path`` (``None``: none) and, in a pyproject.toml,
    the ``table`` inside it; ``how`` says why (``"given"``, ``"found"``, ``"none"``,
    ``"isolated"``) for ``--verbose``; ``start`` is where a search began."""

    path: str | None = None
    table: tuple[str, ...] = ()
    how: str = "none"
    start: str | None = None

    @property
    def source(self) -> str:
        """How messages name it: the path, and the table for a pyproject.toml."""
        if self.path is None:
            return "<config>"
        name = "<stdin>" if self.path == "-" else self.path
        return f"{name} [{'.'.join(self.table)}]" if self.table else name

    def describe(self) -> str:
        if self.how == "given":
            return f"{self.source} (--config)"
        if self.how == "found":
            return f"{self.source} (found from {self.start})"
        if self.how == "isolated":
            return "none (--isolated)"
        where = f" from {self.start} up" if self.start else ""
        return f"none (no {CONFIG_FILE} or {PYPROJECT} with [{'.'.join(PYPROJECT_TABLE)}]{where})"


def discover_config(start: str) -> ConfigChoice:
    """The configuration found from ``start`` (an absolute folder) upward (see the module
    docstring).

    Raises:
        InputProblem: a found file cannot be read.
        ConfigError: a pyproject.toml that names the table is not valid TOML.
    """
    from ..config import declares_table
    from .files import read_text

    folder = start
    while True:
        candidate = os.path.join(folder, CONFIG_FILE)
        if os.path.isfile(candidate):
            return ConfigChoice(candidate, (), "found", start)
        pyproject = os.path.join(folder, PYPROJECT)
        if os.path.isfile(pyproject) and declares_table(read_text(pyproject), pyproject, PYPROJECT_TABLE):
            return ConfigChoice(pyproject, PYPROJECT_TABLE, "found", start)
        parent = os.path.dirname(folder)
        if parent == folder or os.path.exists(os.path.join(folder, ".git")):
            break
        folder = parent
    return ConfigChoice(start=start)


def _note_isolated(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[_ISOLATED] = True


def _choose_config(ctx: click.Context, param: click.Parameter, value: str | None) -> ConfigChoice:
    """``--config``'s value: the file given, or the one found (``--isolated`` is eager, so it
    was seen first)."""
    from ..config import ConfigError
    from .files import InputProblem
    from .output import EXIT_UNREADABLE, fail

    isolated = ctx.meta.get(_ISOLATED, False)
    if value is not None:
        if isolated:
            raise click.UsageError("--isolated reads no config file, so it cannot be combined with --config")
        return ConfigChoice(value, (), "given")
    if isolated:
        return ConfigChoice(how="isolated")
    try:
        start = os.getcwd()
    except OSError:  # the working directory was removed under us: nothing to find
        return ConfigChoice()
    try:
        return discover_config(start)
    except (InputProblem, ConfigError) as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)


CONFIG = click.option(
    "--config",
    "config_path",
    metavar="TOML",
    callback=_choose_config,
    help=f"Payer profiles, select/ignore and severity overrides. Without it, the nearest {CONFIG_FILE} or "
    f"{PYPROJECT} with [tool.edi-rehab] from the working directory up (stopping at a .git folder) is read.",
)
ISOLATED = click.option(
    "--isolated",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_note_isolated,
    help=f"Read no {CONFIG_FILE} or {PYPROJECT} found from the working directory (cannot be used with --config).",
)
