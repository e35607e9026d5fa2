"""The user's cache folder, and reading what the command line keeps there.

Two blobs are kept there that the process would otherwise rebuild on every run: the compiled
maps (``options.use_compiled_maps``) and the compiled dataclass methods
(:mod:`edi_rehab.dataclass_code`). Both are code the process runs (a pickle, marshalled code
objects), so they are read only from a file and a folder that belong to the user and that no
one else may write. This module imports only the standard library's cheapest parts: it runs
before anything else the command line imports.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path

DATACLASS_CODE = "dataclass-code.marshal"

#: A blob bigger than this is dropped and started again (the table only grows when new
#: classes are created, but nothing else bounds it).
DATACLASS_CODE_LIMIT = 8 << 20


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/edi-rehab``, default ``~/.cache/edi-rehab``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "edi-rehab"


def read_private(path: Path) -> bytes | None:
    """The file's bytes when it and its folder belong to this user and no one else may write
    them; ``None`` otherwise or when it is unreadable. Symlinks are not followed."""
    try:
        folder = os.stat(path.parent)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        uid = os.getuid() if hasattr(os, "getuid") else info.st_uid
        for owner, mode in ((info.st_uid, info.st_mode), (folder.st_uid, folder.st_mode)):
            if owner != uid or mode & 0o022:
                return None
        return handle.read()


def use_dataclass_code() -> None:
    """Compile dataclass methods through the cached table, and save it at exit when this run
    compiled any it did not hold. An unusable blob means compiling as usual; an unwritable
    cache folder means no cache."""
    from ..dataclass_code import decode_codes, install

    entry = cache_dir() / DATACLASS_CODE
    blob = read_private(entry)
    table = install(decode_codes(blob) if blob is not None and len(blob) <= DATACLASS_CODE_LIMIT else {})
    atexit.register(_save_dataclass_code, entry, table)


def _save_dataclass_code(entry: Path, table) -> None:
    if not table.added:
        return
    from ..dataclass_code import encode_codes

    blob = encode_codes(table.codes)
    if len(blob) > DATACLASS_CODE_LIMIT:
        return
    try:
        from .files import write_atomically

        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomically(str(entry), blob)
    except OSError:
        pass  # no cache this time
