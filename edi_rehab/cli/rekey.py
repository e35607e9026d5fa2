"""`edi-rehab rekey`: rotate the claim ledger's patient key without the identifiers."""

from __future__ import annotations

import os
import sys

import click

from .options import LEDGER_OPTION
from .output import EXIT_OK, EXIT_UNREADABLE, fail


@click.command("rekey")
@LEDGER_OPTION
@click.option("--key-file", "key_file", required=True, metavar="PATH",
              help="The ledger's key file (ledger_key_file); a new key is appended to it.")
def rekey_command(ledger_url: str | None, key_file: str) -> None:
    """Rotate the ledger's patient key: append a fresh key to KEY-FILE and rehash every
    stored patient hash with it, in one transaction. Copy the longer key file to every
    machine that writes the ledger before they run again (a run with the old file is
    refused). The file is written only after the ledger committed. Exit 0, or 2 when the
    ledger or the key file cannot be used."""
    from ..ledger.keys import LedgerKeyError, new_key_line, parse_key_file
    from ..ledger.store import Ledger, LedgerError
    from .files import InputProblem, read_text, write_atomically
    from .ledger import ledger_url_for

    try:
        url = ledger_url_for(ledger_url, None)
        if url is None:
            raise InputProblem("rekey needs --ledger URL")
        text = read_text(key_file)
        key = parse_key_file(text, key_file)
        line = new_key_line()
        ledger = Ledger.open(url, key)
        try:
            ledger.rotate_key(bytes.fromhex(line.strip()))
        finally:
            ledger.close()
    except (InputProblem, LedgerKeyError, LedgerError) as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)
    try:
        write_atomically(key_file, (text.rstrip("\n") + "\n" + line).encode("ascii"))
        os.chmod(key_file, 0o600)
    except OSError as error:
        fail(f"{key_file}: the ledger was rehashed but the new key could not be written ({error.strerror or error}); "
             f"add this line to it before any other run: {line.strip()}")
        sys.exit(EXIT_UNREADABLE)
    click.echo(f"{key_file}: key {len(key.keys) + 1} added; the ledger's patient hashes now follow it. Copy the file to every machine that writes this ledger.")
    sys.exit(EXIT_OK)
