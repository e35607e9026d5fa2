"""The compiled-maps cache (issue 13): the shipped maps kept as a blob between CLI processes.

A cached blob must give exactly the findings the XML gives, and must never be used when it
is stale (other maps, another package version, another Python), damaged, or writable by
someone else."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import pytest

from conftest import fixture_files
from edi_rehab import compiled_maps, mapdata
from edi_rehab.cli import options
from edi_rehab.cli.cache import read_private
from edi_rehab.compiled_maps import compiled_key, decode_compiled, encode_compiled
from edi_rehab.engine import Checker
from edi_rehab.x12 import X12ReadError, iter_events


@pytest.fixture
def files():
    return mapdata.shipped_map_files()


@pytest.fixture
def no_shipped_maps(monkeypatch):
    """A process that has not loaded the shipped maps yet (restored after the test)."""
    monkeypatch.setattr(mapdata, "_shipped", None)


def findings_of(maps: mapdata.Maps) -> list[tuple]:
    """Every fixture's findings, as JSON (details included), checked with ``maps``."""
    checker = Checker(maps=maps)
    rows = []
    for path in fixture_files():
        try:
            for result in checker.check_events(iter_events([path.read_bytes()]), claim_views=False):
                rows.extend((path.name, json.dumps(f.to_json(), sort_keys=True)) for f in result.findings)
        except X12ReadError as error:
            rows.append((path.name, str(error)))
    return rows


def test_the_key_follows_every_map_byte_and_name(files):
    key = compiled_key(files)
    assert compiled_key(dict(files)) == key
    changed = dict(files)
    changed["codes.xml"] = files["codes.xml"] + b" "
    assert compiled_key(changed) != key
    renamed = {("x" + name if name == "rarc.xml" else name): data for name, data in files.items()}
    assert compiled_key(renamed) != key


def test_the_key_is_every_byte_so_a_change_of_the_same_size_shows(files):
    # the key is the content itself (no digest): one byte changed in place, same size and
    # (on disk) possibly the same mtime, gives another key
    key = compiled_key(files)
    assert files["codes.xml"] in key and files["payers.xml"] in key
    flipped = bytearray(files["codes.xml"])
    flipped[len(flipped) // 2] ^= 1
    assert compiled_key(dict(files, **{"codes.xml": bytes(flipped)})) != key
    # bytes moved from one file to the next keep the total but not the key
    moved = dict(files, **{"carc.xml": files["carc.xml"][:-1], "codes.xml": files["carc.xml"][-1:] + files["codes.xml"]})
    assert compiled_key(moved) != key


def test_a_blob_whose_key_only_starts_like_this_one_is_not_used(files):
    key = compiled_key(files)
    maps = mapdata.build_maps(files)
    assert decode_compiled(encode_compiled(maps, key + b"more"), key) is None
    assert decode_compiled(encode_compiled(maps, key), key[:-1]) is None
    assert decode_compiled(encode_compiled(maps, key), key) is not None


def test_the_key_follows_the_code_that_builds_the_maps(files, monkeypatch):
    # Same map bytes, an edited loader (another checkout or an editable install sharing the
    # cache folder): the old blob would hold values the new code does not build.
    key = compiled_key(files)
    source = compiled_maps.builder_source()
    assert source is not None and b"def build_maps" in source
    monkeypatch.setattr(compiled_maps, "builder_source", lambda: source + b"\n# edited\n")
    assert compiled_key(files) != key


def test_without_readable_sources_nothing_is_cached(cache, no_shipped_maps, monkeypatch):
    monkeypatch.setattr(compiled_maps, "builder_source", lambda: None)
    assert compiled_key(mapdata.shipped_map_files()) is None
    options.use_compiled_maps()
    assert mapdata.shipped_maps_ready() and not cache.exists()


def test_the_key_follows_the_package_version_and_the_format(files, monkeypatch):
    key = compiled_key(files)
    monkeypatch.setattr(compiled_maps, "__version__", "999.0.0")
    assert compiled_key(files) != key
    monkeypatch.undo()
    monkeypatch.setattr(compiled_maps, "FORMAT_VERSION", compiled_maps.FORMAT_VERSION + 1)
    assert compiled_key(files) != key


def test_decoded_maps_give_the_same_findings_as_the_xml(files):
    built = mapdata.build_maps(files)
    key = compiled_key(files)
    blob = encode_compiled(built, key)
    assert blob is not None
    decoded = decode_compiled(blob, key)
    assert isinstance(decoded, mapdata.Maps) and decoded is not built
    expected = findings_of(mapdata.build_maps(files))
    assert expected, "the fixtures hold findings, so the comparison means something"
    assert findings_of(decoded) == expected
    # Read-only tables stay read-only after the round trip.
    with pytest.raises(TypeError):
        decoded.codes["97530"] = None


def test_a_blob_for_other_maps_or_damaged_is_not_used(files):
    key = compiled_key(files)
    blob = encode_compiled(mapdata.build_maps(files), key)
    other = dict(files, **{"payers.xml": files["payers.xml"] + b"\n"})
    assert decode_compiled(blob, compiled_key(other)) is None
    assert decode_compiled(blob[: len(blob) // 2], key) is None
    assert decode_compiled(b"", key) is None
    header = blob[: len(b"edi-rehab compiled maps\n") + 8 + len(key)]
    assert decode_compiled(header + pickle.dumps({"not": "maps"}), key) is None
    assert decode_compiled(header + b"\x80\x05garbage", key) is None


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "edi-rehab" / options.COMPILED_MAPS


def test_first_run_writes_the_blob_and_the_next_uses_it(cache, no_shipped_maps, monkeypatch):
    options.use_compiled_maps()
    assert cache.is_file() and mapdata.shipped_maps_ready()
    assert oct(cache.parent.stat().st_mode & 0o777) == "0o700"

    def never(files):
        raise AssertionError("the maps were built from XML although the cache was fresh")

    monkeypatch.setattr(mapdata, "_shipped", None)
    monkeypatch.setattr(mapdata, "build_maps", never)
    options.use_compiled_maps()
    assert isinstance(mapdata.load_maps(), mapdata.Maps)


def test_a_stale_blob_is_rebuilt_and_replaced(cache, no_shipped_maps, files):
    cache.parent.mkdir(parents=True, mode=0o700)
    stale_key = compiled_key(dict(files, **{"codes.xml": b"older"}))
    cache.write_bytes(encode_compiled(mapdata.build_maps(files), stale_key))
    options.use_compiled_maps()
    assert decode_compiled(cache.read_bytes(), compiled_key(files)) is not None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="ownership checks are POSIX-only")
@pytest.mark.parametrize("weak", ["file-group-writable", "folder-world-writable", "symlink"])
def test_a_blob_others_could_have_written_is_not_read(cache, no_shipped_maps, files, monkeypatch, weak):
    options.use_compiled_maps()
    good = cache.read_bytes()
    if weak == "file-group-writable":
        cache.chmod(0o664)
    elif weak == "folder-world-writable":
        cache.parent.chmod(0o777)
    else:
        target = cache.with_name("elsewhere.pickle")
        target.write_bytes(good)
        cache.unlink()
        cache.symlink_to(target)
    assert read_private(cache) is None
    cache.parent.chmod(0o700)


def test_an_unwritable_cache_folder_means_no_cache(tmp_path, no_shipped_maps, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    options.use_compiled_maps()
    assert mapdata.shipped_maps_ready()


def test_a_check_process_with_a_fresh_cache_does_not_import_lxml(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    code = (
        "import json, sys\n"
        "from edi_rehab.cli import main\n"
        "try:\n"
        "    main(['check', '--sample', '--format', 'json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('\\n' + json.dumps(sorted(sys.modules)))\n"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env) for _ in range(2)]
    first, second = ([json.loads(run.stderr.strip().splitlines()[-1]), run.stdout] for run in runs)
    assert "lxml" in first[0]  # built from XML, then cached
    assert "lxml" not in second[0] and "lxml.etree" not in second[0]
    assert second[1] == first[1] and json.loads(second[1])["files"][0]["findings"]


def _plain(value):
    """``value`` with every record and read-only table turned into plain, comparable data
    (Maps and ModifierPolicy compare by identity, so ``==`` on them says nothing)."""
    import dataclasses
    from collections.abc import Mapping

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)})
    if isinstance(value, Mapping):
        return (type(value).__name__, {k: _plain(v) for k, v in value.items()})
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, [_plain(v) for v in value])
    return (type(value).__name__, value)


def test_a_round_trip_gives_maps_equal_to_freshly_built_ones(files):
    # The records are rebuilt through their constructors (format 2): every field, its type
    # and the read-only tables must come back as build_maps made them.
    key = compiled_key(files)
    decoded = decode_compiled(encode_compiled(mapdata.build_maps(files), key), key)
    fresh = mapdata.build_maps(files)
    assert _plain(decoded) == _plain(fresh)
    assert _plain(decoded)[1]["codes"][1], "the comparison covers the code table"
    assert type(decoded.codes).__name__ == "mappingproxy"
    assert hash(decoded.codes["97530"]) == hash(fresh.codes["97530"])
