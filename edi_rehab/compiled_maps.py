"""The shipped maps, parsed and validated once, kept as a compiled blob between processes.

A hook process that checks one small file spends most of its life starting up, and parsing
and schema-validating ``maps/`` (with lxml imported for it) is a fixed part of that. The
CLI keeps the built :class:`~edi_rehab.mapdata.Maps` in its cache folder and hands the
bytes back here on the next run.

Why the blob can be trusted:

1. Its key is the content itself: every shipped map file's name and bytes and the source of
   the code that builds them (``mapdata.py`` and this module), after the package version,
   this format's version and the Python version, and the key is stored whole inside the
   blob. A blob whose key differs in any byte (the maps or the package changed, or another
   Python wrote it) is ignored and rebuilt, never used: nothing carries over between
   versions. Comparing the bytes is exact where a digest is only very likely to be, and it
   costs a ``memcmp`` where the SHA-256 of the ~200 KB was ~9.5 M instructions a run.
2. It is a pickle, which can run code when loaded, so the CLI only reads one from a cache
   folder owned by the user and writable by no one else (see ``cli/options.py``).
3. Any failure to decode means "no cache": the maps are built from XML as usual.

Pure: bytes in, values out. The CLI reads and writes the file.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import MappingProxyType

from . import __version__
from .mapdata import Maps

try:  # the unpickler itself: the pickle module around it is ~4.5 M instructions to import
    from _pickle import loads as _loads
except ImportError:  # an interpreter without the C accelerator
    from pickle import loads as _loads

#: Bump when the blob's layout changes in a way the key would not notice.
#: 2: records are rebuilt through their constructors.
#: 3: the key is the content itself, stored with its length (no digest); the records are
#:    mapdata's own classes, no longer dataclasses (their constructors, as in 2).
FORMAT_VERSION = 3
_MAGIC = b"edi-rehab compiled maps\n"
_LENGTH_BYTES = 8


def compiled_key(files: Mapping[str, bytes]) -> bytes | None:
    """The key a blob must carry to stand for these map files, built by this code, in this
    package and Python: all of it, byte for byte; ``None`` when the code's source cannot be
    read (no cache then)."""
    code = builder_source()
    if code is None:
        return None
    # The Python version, not only its cache tag: the pickle protocol and the classes'
    # layout are the interpreter's.
    parts = [f"{__version__}|{FORMAT_VERSION}|{sys.implementation.cache_tag}|{sys.version}\0".encode()]
    for name in sorted(files):
        data = files[name]
        # Each name and length precede the bytes, so no two sets of files give one key.
        parts.append(name.encode() + b"\0" + len(data).to_bytes(8, "big"))
        parts.append(data)
    # The code that builds the maps, and defines the classes the pickle names: an edited
    # loader (a checkout between two commits, an editable install) reads the same map bytes
    # into other values, so its blob must not serve the old code or the new.
    parts.append(b"\0code\0" + len(code).to_bytes(8, "big"))
    parts.append(code)
    return b"".join(parts)


def builder_source() -> bytes | None:
    """The source of the modules whose code decides what a blob holds (``mapdata`` and this
    one); ``None`` when it cannot be read (an install without sources: then no cache)."""
    from . import mapdata

    try:
        return b"".join(_read_bytes(module.__file__) for module in (mapdata, sys.modules[__name__]))
    except (OSError, TypeError, AttributeError):
        return None


def _read_bytes(path: str) -> bytes:
    # open(), not pathlib: importing pathlib (and urllib.parse with it) is a fixed cost of
    # every run that takes the blob.
    with open(path, "rb") as handle:
        return handle.read()


def _read_only(mapping: dict) -> MappingProxyType:
    return MappingProxyType(mapping)


def _proxy_to_dict(proxy: MappingProxyType) -> tuple:
    # Mapping proxies do not pickle; they are rebuilt as proxies over a private dict.
    return _read_only, (dict(proxy),)


def encode_compiled(maps: Maps, key: bytes) -> bytes | None:
    """The blob for ``maps`` built from the files ``key`` was computed from; ``None`` when
    something in them does not pickle (then the run simply goes without a cache)."""
    import io
    import pickle

    body = io.BytesIO()
    pickler = pickle.Pickler(body, protocol=pickle.HIGHEST_PROTOCOL)
    # A per-pickler dispatch table, so nothing global (copyreg) changes. The map records
    # pickle through their constructors themselves (mapdata._FrozenRecord.__reduce__).
    pickler.dispatch_table = {MappingProxyType: _proxy_to_dict}
    try:
        pickler.dump(maps)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return None
    return _MAGIC + len(key).to_bytes(_LENGTH_BYTES, "big") + key + body.getvalue()


def decode_compiled(blob: bytes, key: bytes) -> Maps | None:
    """The maps in ``blob`` when it carries exactly ``key``; ``None`` for anything else."""
    start = len(_MAGIC) + _LENGTH_BYTES
    if not blob.startswith(_MAGIC + len(key).to_bytes(_LENGTH_BYTES, "big")):
        return None
    # startswith at an offset compares in place: the blob is not copied to check its key.
    if not blob.startswith(key, start):
        return None
    try:
        maps = _loads(memoryview(blob)[start + len(key):])
    except Exception:  # noqa: BLE001 - a damaged cache only means rebuilding from XML
        return None
    return maps if isinstance(maps, Maps) else None
