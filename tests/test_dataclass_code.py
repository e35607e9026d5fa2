"""The compiled dataclass methods the console script keeps between runs (issue 13's start-up):
a class made through the table is the class ``dataclasses`` makes, and a blob that is damaged,
stale or writable by others is never used."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edi_rehab import dataclass_code
from edi_rehab.cli.cache import DATACLASS_CODE

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "every-defect-837p.x12"


@pytest.fixture
def table():
    """A fresh table installed into ``dataclasses``, removed afterwards."""
    before = dataclasses.__dict__.get("exec")
    dataclasses.__dict__.pop("exec", None)
    installed = dataclass_code.install({})
    yield installed
    if before is None:
        dataclasses.__dict__.pop("exec", None)
    else:
        dataclasses.exec = before


def make_class():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Line:
        code: str
        units: int = 1
        modifiers: tuple[str, ...] = dataclasses.field(default=(), compare=False)

    return Line


def test_a_class_made_through_the_table_behaves_as_dataclasses_makes_it(table):
    first = make_class()
    compiled = table.added
    assert compiled > 0
    again = dataclass_code.install(dataclass_code.decode_codes(dataclass_code.encode_codes(table.codes)))
    assert again is table  # installing twice keeps one table
    second = make_class()
    assert table.added == compiled  # every method came from the table
    for cls in (first, second):
        line = cls("97110", 2, ("GP",))
        assert repr(line) == "make_class.<locals>.Line(code='97110', units=2, modifiers=('GP',))"
        assert line == cls("97110", 2, ()) and hash(line) == hash(cls("97110", 2))
        with pytest.raises(dataclasses.FrozenInstanceError):
            line.units = 3
        assert dataclasses.replace(line, units=4).units == 4
    # The methods are compiled as exec compiles a string: this module's
    # ``from __future__ import annotations`` does not leak into them.
    plain = dataclasses.__dict__.pop("exec")
    try:
        reference = make_class()
    finally:
        dataclasses.exec = plain
    assert second.__init__.__annotations__ == reference.__init__.__annotations__
    assert second.__init__.__code__.co_flags == reference.__init__.__code__.co_flags


@pytest.mark.parametrize("blob", [b"", b"not marshal", b"\x00" * 64])
def test_a_damaged_blob_gives_an_empty_table(blob):
    assert dataclass_code.decode_codes(blob) == {}


def test_a_blob_from_another_version_gives_an_empty_table(monkeypatch):
    import marshal

    codes = {"x = 1": marshal.dumps(compile("x = 1", "<string>", "exec"))}
    assert dataclass_code.decode_codes(marshal.dumps((dataclass_code.HEADER, codes))) == codes
    assert dataclass_code.decode_codes(marshal.dumps((dataclass_code.HEADER + " other", codes))) == {}
    assert dataclass_code.decode_codes(marshal.dumps((dataclass_code.HEADER, {"x = 1": "text"}))) == {}
    # format 1 held the code objects themselves
    unmarshalled = {"x = 1": compile("x = 1", "<string>", "exec")}
    assert dataclass_code.decode_codes(marshal.dumps((dataclass_code.HEADER, unmarshalled))) == {}


def test_reading_the_blob_builds_only_the_code_objects_a_run_uses(table):
    # The table holds every class any command made; a run builds the code objects of the
    # classes it creates, on their first use, and no others.
    import marshal

    make_class()
    other = {"def __create_fn__():\n pass\n": marshal.dumps(compile("def __create_fn__():\n pass\n", "<string>", "exec"))}
    read = dataclass_code.decode_codes(dataclass_code.encode_codes({**table.codes, **other}))
    assert read and all(type(code) is bytes for code in read.values())
    dataclasses.__dict__.pop("exec")
    fresh = dataclass_code.install(read)
    make_class()
    assert fresh.added == 0
    used = {source for source, code in fresh.codes.items() if type(code) is not bytes}
    assert used == set(table.codes) and set(other).isdisjoint(used)
    # written back, the entries never used keep their bytes
    assert dataclass_code.decode_codes(dataclass_code.encode_codes(fresh.codes))[next(iter(other))] == next(iter(other.values()))


def test_a_damaged_entry_is_compiled_again_and_replaced(table):
    make_class()
    read = dataclass_code.decode_codes(dataclass_code.encode_codes(table.codes))
    damaged = {source: b"\xff" + code[1:] for source, code in read.items()}
    dataclasses.__dict__.pop("exec")
    fresh = dataclass_code.install(damaged)
    line = make_class()("97110")
    assert line.units == 1
    assert fresh.added == len(damaged)  # so the run saves a repaired table


def test_a_table_past_the_limit_keeps_what_the_run_used(table, tmp_path, monkeypatch):
    from edi_rehab.cli import cache

    make_class()
    used = set(table.codes)
    table.codes["def __create_fn__():\n pass\n"] = b"\0" * 10_000  # another command's, not loaded by this run
    monkeypatch.setattr(cache, "DATACLASS_CODE_LIMIT", len(dataclass_code.encode_codes(table.used())) + 1000)
    entry = tmp_path / "edi-rehab" / DATACLASS_CODE
    cache._save_dataclass_code(str(entry), table)
    assert set(dataclass_code.decode_codes(entry.read_bytes())) == used


def run_check(cache_home: Path) -> subprocess.CompletedProcess:
    """``edi-rehab check`` as the console script runs it, with its own cache folder."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    code = "import sys; sys.argv = ['edi-rehab', *sys.argv[1:]]; from edi_rehab.cli.program import run; run()"
    return subprocess.run([sys.executable, "-c", code, "check", str(FIXTURE), "--format", "json"],
                          capture_output=True, env=env, check=False)


def test_the_console_script_fills_the_table_once_and_then_only_reads_it(tmp_path):
    cold = run_check(tmp_path)
    blob = tmp_path / "edi-rehab" / DATACLASS_CODE
    assert blob.exists() and len(dataclass_code.decode_codes(blob.read_bytes())) > 50
    written = blob.stat().st_mtime_ns, blob.read_bytes()
    warm = run_check(tmp_path)
    assert (warm.returncode, warm.stdout) == (cold.returncode, cold.stdout) and cold.returncode == 1
    assert (blob.stat().st_mtime_ns, blob.read_bytes()) == written  # nothing new was compiled


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="ownership checks are POSIX-only")
@pytest.mark.parametrize("weak", ["damaged", "group-writable", "symlink"])
def test_a_blob_that_cannot_be_trusted_is_not_used(tmp_path, weak):
    reference = run_check(tmp_path / "clean")
    blob = tmp_path / "edi-rehab" / DATACLASS_CODE
    blob.parent.mkdir(mode=0o700)
    planted = dataclass_code.encode_codes({})
    if weak == "damaged":
        blob.write_bytes(b"\xff" * 100)
    elif weak == "group-writable":
        blob.write_bytes(planted)
        blob.chmod(0o664)
    else:
        (tmp_path / "elsewhere").write_bytes(planted)
        blob.symlink_to(tmp_path / "elsewhere")
    done = run_check(tmp_path)
    assert (done.returncode, done.stdout) == (reference.returncode, reference.stdout)
    assert b"Traceback" not in done.stderr
