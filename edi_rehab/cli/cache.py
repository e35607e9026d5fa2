"""The user's cache folder, and reading what the command line keeps there.

Two blobs are kept there that the process would otherwise rebuild on every run: the compiled
maps (``options.use_compiled_maps``) and the compiled dataclass methods
(:mod:`edi_rehab.dataclass_code`). Both are code the process runs (a pickle, marshalled code
objects), so they are read only from a file and a folder that belong to the user and that no
one else may write. This module imports only the standard library's cheapest parts (paths
are strings joined with ``os.path``: pathlib and what it imports were ~16 M instructions of
a 5-claim check): it runs before anything else the command line imports.
"""

from __future__ import annotations

import atexit
import os

DATACLASS_CODE = "dataclass-code.marshal"

#: A blob bigger than this is not read, and a table that outgrows it keeps only the methods
#: of the run that saves it (other commands add theirs back). The table only grows when new
#: classes are created, but nothing else bounds it; every command's classes together were
#: ~0.6 MB, and each entry still costs a little to read even when it is not used.
DATACLASS_CODE_LIMIT = 1 << 20


def cache_dir() -> str:
    """``$XDG_CACHE_HOME/edi-rehab``, default ``~/.cache/edi-rehab``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "edi-rehab")


def read_private(path: str | os.PathLike[str]) -> bytes | None:
    """The file's bytes when it and its folder belong to this user and no one else may write
    them; ``None`` otherwise or when it is unreadable. Symlinks are not followed."""
    try:
        folder = os.stat(os.path.dirname(os.path.abspath(path)))
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

    entry = os.path.join(cache_dir(), DATACLASS_CODE)
    blob = read_private(entry)
    table = install(decode_codes(blob) if blob is not None and len(blob) <= DATACLASS_CODE_LIMIT else {})
    atexit.register(_save_dataclass_code, entry, table)


def _save_dataclass_code(entry: str, table) -> None:
    if not table.added:
        return
    from ..dataclass_code import encode_codes

    blob = encode_codes(table.codes)
    if len(blob) > DATACLASS_CODE_LIMIT:
        blob = encode_codes(table.used())
        if len(blob) > DATACLASS_CODE_LIMIT:
            return
    try:
        from .files import write_atomically

        os.makedirs(os.path.dirname(entry), mode=0o700, exist_ok=True)
        write_atomically(entry, blob)
    except OSError:
        pass  # no cache this time
