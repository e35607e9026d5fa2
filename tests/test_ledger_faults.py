"""The ledger under concurrency and faults, with real processes: two hooks writing one
ledger at once lose nothing (SQLite in WAL mode, PostgreSQL); a run killed in the middle of
recording a file leaves no trace of that file."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from sqlalchemy import create_engine, func, select

from edi_rehab.ledger import schema as s
from edi_rehab.ledger.store import Ledger, normalise_url
from edi_rehab.synth import generate_837p
from ledgerkit import ledger_home, ledger_url, pg_schema, the_key  # noqa: F401  (fixtures)

CLI = [sys.executable, "-c", "import sys; from edi_rehab.cli import main; sys.exit(main())"]


def spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())


def claims_per_file(url: str) -> dict[str, int]:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            query = select(s.files.c.name, func.count(s.claims.c.id)).outerjoin(s.claims, s.claims.c.file_id == s.files.c.id).group_by(s.files.c.name)
            return dict(conn.execute(query).all())
    finally:
        engine.dispose()


def test_two_hooks_writing_at_once_lose_nothing(ledger_url, tmp_path):
    # Each hook records its own files and two they share, in opposite orders, so they meet
    # on the same files and the same moments.
    batches = {}
    for n in range(8):
        synth = generate_837p(claims=120, seed=100 + n, claims_per_transaction=40)
        path = tmp_path / f"f{n}.x12"
        path.write_bytes(synth.data)
        batches[str(path)] = len(synth.claims)
    names = list(batches)
    first = [*names[0:3], *names[6:8]]
    second = [*names[3:6], *reversed(names[6:8])]
    with Ledger.open(ledger_url, the_key()):
        pass  # the schema exists: the race is on the rows (a fresh ledger's race is the next test)
    hooks = [spawn("check", *files, "-q", "--ledger", ledger_url) for files in (first, second)]
    for hook in hooks:
        _out, err = hook.communicate(timeout=300)
        assert hook.returncode in (0, 1), err.decode()[-2000:]
    assert claims_per_file(ledger_url) == batches


def test_two_hooks_opening_a_new_ledger_at_once_build_it_once(ledger_url, tmp_path):
    paths = []
    for n in range(2):
        path = tmp_path / f"g{n}.x12"
        path.write_bytes(generate_837p(claims=30, seed=300 + n).data)
        paths.append(str(path))
    hooks = [spawn("check", path, "-q", "--ledger", ledger_url) for path in paths]
    for hook in hooks:
        _out, err = hook.communicate(timeout=300)
        assert hook.returncode in (0, 1), err.decode()[-2000:]
    assert claims_per_file(ledger_url) == {paths[0]: 30, paths[1]: 30}
    with Ledger.open(ledger_url, the_key()) as ledger:
        assert ledger.schema_version == s.SCHEMA_VERSION


def _open_at_the_barrier(url, barrier, results) -> None:
    barrier.wait()
    try:
        with Ledger.open(url, the_key()) as ledger:
            results.put(ledger.schema_version)
    except Exception as error:  # noqa: BLE001  (the failure is the result the test reports)
        results.put(repr(error))


def test_two_processes_opening_a_new_sqlite_ledger_at_the_same_instant_both_succeed(tmp_path):
    # SQLite skips its busy handler for a journal-mode change, so without a retry the loser of
    # two simultaneous PRAGMA journal_mode = WAL failed at once ("database is locked"); released
    # by a barrier, that happened in about two of three pairs. Ten pairs make a miss unlikely.
    context = multiprocessing.get_context("spawn")
    for n in range(10):
        url = f"sqlite:///{tmp_path / f'race-{n}.db'}"
        barrier, results = context.Barrier(2), context.Queue()
        racers = [context.Process(target=_open_at_the_barrier, args=(url, barrier, results)) for _ in range(2)]
        for racer in racers:
            racer.start()
        outcomes = [results.get(timeout=120) for _ in racers]
        for racer in racers:
            racer.join(timeout=120)
        assert outcomes == [s.SCHEMA_VERSION, s.SCHEMA_VERSION], (n, outcomes)


def test_the_same_file_from_two_hooks_is_recorded_once(ledger_url, tmp_path):
    path = tmp_path / "same.x12"
    path.write_bytes(generate_837p(claims=300, seed=7).data)
    with Ledger.open(ledger_url, the_key()):
        pass
    hooks = [spawn("check", str(path), "-q", "--ledger", ledger_url) for _ in range(2)]
    for hook in hooks:
        _out, err = hook.communicate(timeout=300)
        assert hook.returncode in (0, 1), err.decode()[-2000:]
    assert claims_per_file(ledger_url) == {str(path): 300}


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "big.x12"
    synth = generate_837p(claims=12000, seed=77, claims_per_transaction=4000)
    path.write_bytes(synth.data)
    return str(path), len(synth.claims)


def _wait(condition, process, timeout=240.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the run ended before it could be stopped"
        assert time.monotonic() < deadline, "the run never reached the point to stop it at"
        time.sleep(0.02)


def test_a_run_killed_while_recording_on_postgresql_leaves_no_trace(pg_schema, ledger_home, big_file):
    schema, url = pg_schema
    path, _claims = big_file
    with Ledger.open(url, the_key()):
        pass
    # Hold the lines table: the run inserts the file and its claims, then waits here, in the
    # middle of its transaction, and is killed there.
    holder = psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=False)
    try:
        holder.execute(f'LOCK TABLE "{schema}".ledger_lines IN ACCESS EXCLUSIVE MODE')
        run = spawn("check", path, "-q", "--ledger", url)
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as watcher:
            def waiting() -> bool:
                row = watcher.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE NOT l.granted AND c.relname = 'ledger_lines' AND n.nspname = %s", (schema,)
                ).fetchone()
                return row[0] > 0

            _wait(waiting, run)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=60)
    finally:
        holder.rollback()
        holder.close()
    assert claims_per_file(url) == {}
    with Ledger.open(url, the_key()) as ledger:
        assert ledger.count("claims") == 0 and ledger.count("lines") == 0
    # and the same file recorded afterwards is recorded whole
    done = subprocess.run([*CLI, "check", path, "-q", "--ledger", url], capture_output=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr.decode()[-2000:]
    assert claims_per_file(url) == {path: _claims}


def test_a_run_killed_while_recording_on_sqlite_leaves_no_trace(tmp_path, ledger_home, big_file):
    path, claims = big_file
    db = tmp_path / "ledger.sqlite3"
    url = f"sqlite:///{db}"
    with Ledger.open(url, the_key()):
        pass  # closing the last connection checkpoints the WAL away
    wal = tmp_path / "ledger.sqlite3-wal"
    run = spawn("check", path, "-q", "--ledger", url)
    # The recording transaction is far larger than SQLite's page cache, so its pages spill
    # into the WAL long before it commits: a WAL of some megabytes is a transaction half done.
    _wait(lambda: wal.exists() and wal.stat().st_size > 4 << 20, run)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=60)
    recorded = claims_per_file(url)
    assert recorded == {}, "the kill came after the commit: make the file larger"
    with Ledger.open(url, the_key()) as ledger:
        assert ledger.count("lines") == 0
    done = subprocess.run([*CLI, "check", path, "-q", "--ledger", url], capture_output=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr.decode()[-2000:]
    assert claims_per_file(url) == {path: claims}


def test_a_ledger_gone_mid_run_stops_the_run_with_exit_2(pg_schema, ledger_home, tmp_path):
    schema, url = pg_schema
    path = tmp_path / "one.x12"
    path.write_bytes(generate_837p(claims=5, seed=1).data)
    with Ledger.open(url, the_key()):
        pass
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f'DROP TABLE "{schema}".ledger_lines CASCADE')  # the ledger breaks under the run
    done = subprocess.run([*CLI, "check", str(path), "-q", "--ledger", url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "the run stopped" in done.stderr and "does not exist" in done.stderr and "Traceback" not in done.stderr
    assert claims_per_file(url) == {}
