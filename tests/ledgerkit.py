"""Ledgers for the tests: a SQLite file per test, and a PostgreSQL schema per test on the
server the project's machines run (``postgresql://postgres@127.0.0.1:5432/test``, or
``$EDI_REHAB_TEST_POSTGRES``). Each PostgreSQL test gets a schema of its own, selected through
the URL's ``search_path``, and drops it afterwards. Without a reachable server the
PostgreSQL tests skip, saying why, unless ``EDI_REHAB_REQUIRE_POSTGRES=1`` (``.ci/run`` sets
it), which makes them fail instead.

Import the fixtures into a test module: ``from ledgerkit import ledger_url, pg_url, ...``.
"""

from __future__ import annotations

import os
import secrets
from urllib.parse import quote

import pytest

PG_SERVER = os.environ.get("EDI_REHAB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
KEY_LINE = "5f" * 32 + "\n"


def _pg_connect():
    import psycopg

    return psycopg.connect(PG_SERVER, connect_timeout=5, autocommit=True)


def pg_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        with _pg_connect():
            return None
    except Exception as error:  # any reason the server is not there is a reason to skip
        return f"PostgreSQL at {PG_SERVER} is not reachable ({type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''})"


def _need_pg() -> None:
    reason = pg_available()
    if reason is not None:
        if os.environ.get("EDI_REHAB_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}, and EDI_REHAB_REQUIRE_POSTGRES=1 makes the PostgreSQL tests required")
        pytest.skip(reason)


def with_search_path(server: str, schema: str) -> str:
    sep = "&" if "?" in server else "?"
    return f"{server}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def pg_schema():
    """A fresh, empty schema on the test server: (its name, a URL that writes into it)."""
    _need_pg()
    schema = f"edi_test_{os.getpid()}_{secrets.token_hex(4)}"
    with _pg_connect() as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema, with_search_path(PG_SERVER, schema)
    finally:
        with _pg_connect() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def ledger_home(tmp_path, monkeypatch):
    """The user data folder (default ledger and key) inside the test's folder, with a known key file."""
    home = tmp_path / "data"
    home.mkdir()
    key = tmp_path / "ledger.key"
    key.write_text(KEY_LINE)
    monkeypatch.setenv("EDI_REHAB_DATA_DIR", str(home))
    monkeypatch.setenv("EDI_REHAB_LEDGER_KEY_FILE", str(key))
    return home


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path, ledger_home):
    """A ledger URL on each backend, empty at the start of the test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    schema_fixture = request.getfixturevalue("pg_schema")
    return schema_fixture[1]


def the_key():
    from edi_rehab.ledger.keys import parse_key_file

    return parse_key_file(KEY_LINE, "test key")
