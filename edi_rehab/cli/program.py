"""The ``edi-rehab`` console script's entry point: what a real process does before the command
line is imported, and after the command is done.

The compiled dataclass methods (:mod:`edi_rehab.dataclass_code`) are installed here, before
the commands' modules are imported (click defines no dataclass), and only here: a program that imports
``edi_rehab.cli`` to call ``main`` itself (tests, ``CliRunner``) compiles its dataclasses as
usual and leaves the cache alone.

A command of :data:`ENDS_WITHOUT_TEARDOWN` ends the process as soon as its output is flushed
and the ``atexit`` handlers have run, without the interpreter's teardown (freeing every module
and object one by one, and a last full scan by the cyclic collector): that teardown was ~31 M
of the ~360 M instructions of a 5-claim ``check`` (issue 13), a fixed cost of every hook call
that nobody sees the result of. Only here, again: a program calling ``main`` itself is never
ended early.
"""

from __future__ import annotations

#: Commands whose process is ended without the interpreter's teardown once they are done.
#: They write to stdout, stderr and files they close themselves, and start no thread.
ENDS_WITHOUT_TEARDOWN = frozenset({"check", "rule", "rules"})


def run() -> None:
    import sys

    from ..gcpause import pause_for_start_up

    # The collector stays off until the command has started up (edi_rehab/gcpause.py):
    # LazyCommands.get_command, or for check and split the end of options.prepare_check,
    # turns it back on.
    pause_for_start_up()
    from . import COMMANDS, main

    # Only a command's modules define dataclasses: ``--help`` and ``--version`` skip the table.
    if COMMANDS.keys() & set(sys.argv[1:]):
        from .cache import use_dataclass_code

        use_dataclass_code()
    # The group takes no option with a value, so the first word that is not an option names
    # the command.
    command = next((word for word in sys.argv[1:] if not word.startswith("-")), None)
    if command not in ENDS_WITHOUT_TEARDOWN:
        main()
        return
    try:
        main()
    except SystemExit as done:
        end_without_teardown(done.code)
        raise


def end_without_teardown(code: object) -> None:
    """End the process with ``code``'s exit status as the interpreter would, minus its teardown:
    stdout and stderr flushed, the ``atexit`` handlers run (the dataclass-code table is saved
    by one), then ``os._exit``.

    Returns, so that the interpreter ends the process as usual, whenever the teardown could
    still matter: an exit with a message (``sys.exit("text")``), another thread still running
    (the interpreter would wait for it), a database layer loaded (a ledger's connections are
    closed as they are freed), or a flush that fails (the interpreter reports it and exits 120).
    """
    import os
    import sys

    if code is None:
        status = 0
    elif code.__class__ is int:
        status = code
    else:
        return
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return
    if any(name in sys.modules for name in ("sqlalchemy", "psycopg", "psycopg2", "sqlite3")):
        return
    if not _flushed(sys):
        return
    import atexit

    atexit._run_exitfuncs()
    if not _flushed(sys):
        return
    os._exit(status)


def _flushed(sys) -> bool:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - any failure: let the interpreter's own exit report it
        return False
    return True
