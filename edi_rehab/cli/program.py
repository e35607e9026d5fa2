"""The ``edi-rehab`` console script's entry point: what a real process does before the command
line is imported.

The compiled dataclass methods (:mod:`edi_rehab.dataclass_code`) are installed here, before
the commands' modules are imported (click defines no dataclass), and only here: a program that imports
``edi_rehab.cli`` to call ``main`` itself (tests, ``CliRunner``) compiles its dataclasses as
usual and leaves the cache alone.
"""

from __future__ import annotations


def run() -> None:
    import sys

    from . import COMMANDS, main

    # Only a command's modules define dataclasses: ``--help`` and ``--version`` skip the table.
    if COMMANDS.keys() & set(sys.argv[1:]):
        from .cache import use_dataclass_code

        use_dataclass_code()
    main()
