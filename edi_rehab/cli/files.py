"""Reading inputs and writing outputs: the only place in the package that opens a file.

Inputs are read in bounded chunks (memory stays flat on large files); outputs go through a
temporary file in the target's folder and a rename, so a failed run leaves no half-written
file. Temporary files are named ``.<target>.edi-rehab-<random>.tmp``; one left by a run that
was killed (``kill -9`` runs no cleanup) is removed by the next write to the same target once
it is older than :data:`STALE_TEMP_SECONDS`.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from ..batch import InputFailure

if TYPE_CHECKING:
    from pathlib import Path  # imported where a file is written: a run that only reads needs none of it

#: Read size for streaming input; bounded so memory stays flat on large files.
CHUNK_SIZE = 1 << 20

#: A temporary file of ours this old belongs to a run that died: no write of ours takes
#: this long (a 50 MB fix writes in seconds), so a live run's temporary is never taken.
STALE_TEMP_SECONDS = 30 * 60

_TEMP_MARK = ".edi-rehab-"
_TEMP_SUFFIX = ".tmp"


class InputProblem(InputFailure):
    """A file that cannot be opened or read; reported as exit 2."""


def read_chunks(path: str) -> Iterator[bytes]:
    """The bytes of ``path`` (``-`` for stdin), in bounded chunks."""
    if path == "-":
        stream = sys.stdin.buffer
        while chunk := stream.read(CHUNK_SIZE):
            yield chunk
        return
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise InputProblem(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputProblem(f"{path}: is a directory") from None
    except OSError as error:
        raise InputProblem(f"{path}: cannot open: {error.strerror}") from None
    with handle:
        try:
            while chunk := handle.read(CHUNK_SIZE):
                yield chunk
        except OSError as error:
            raise InputProblem(f"{path}: cannot read: {error.strerror}") from None


def read_all(path: str) -> bytes:
    return b"".join(read_chunks(path))


def read_text(path: str) -> str:
    """A small text input (minutes CSV, config): UTF-8, else latin-1 (EMR exports vary)."""
    data = read_all(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def write_atomically(
    path: str,
    data: bytes | Iterable[bytes],
    *,
    backup: bool = False,
    keep: Callable[[], bool] | None = None,
) -> bool:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    A crash leaves either the old file or the new one, never a half-written file. ``data``
    may be an iterable of chunks, written as they come (memory stays flat); an exception
    while producing them removes the temporary file, leaves ``path`` as it was and
    propagates. ``keep``, when given, is asked once everything is written: False discards
    the temporary file and leaves ``path`` untouched. Returns whether ``path`` was written.

    ``backup`` (``fix --in-place``) keeps the old file as ``path.orig``: hard-linked
    first (copied where the file system has no hard links), and only then is the new file
    renamed over ``path``, so ``path`` exists at every instant, and a failure of the rename
    removes the backup this call made. An existing ``.orig`` is never replaced
    (``FileExistsError``), unless it is a hard link to ``path`` itself: the backup a run
    killed before its rename made, whose bytes are ``path``'s, which is reused.
    """
    target = _regular_target(path)
    folder = target.parent
    import tempfile  # here, not at the top: most runs write nothing (a hook prints JSON)

    remove_stale_temps(target)
    fd, temp_name = tempfile.mkstemp(prefix=temp_prefix(target), suffix=_TEMP_SUFFIX, dir=folder)
    made_backup: Path | None = None
    try:
        _give_mode(fd, target)
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, (bytes, bytearray, memoryview)):
                handle.write(data)
            else:
                for chunk in data:
                    handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        if keep is not None and not keep():
            os.unlink(temp_name)
            return False
        if backup and target.exists():
            # None: a killed run's link to this very file, reused and not ours to undo.
            made_backup = _keep_original(target, target.with_name(target.name + ".orig"))
        os.replace(temp_name, target)
    except BaseException:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        if made_backup is not None:  # path is still the original: undo the backup we made
            try:
                os.unlink(made_backup)
            except FileNotFoundError:
                pass
        raise
    return True


def _keep_original(target: Path, backup: Path) -> Path | None:
    """Make ``backup`` a second name of ``target`` (a copy where hard links fail), leaving
    ``target`` in place; the backup made, or ``None`` when ``backup`` already is ``target``
    (the link a killed run made: its bytes are the original's). Raises ``FileExistsError``
    rather than replace any other backup."""
    try:
        os.link(target, backup, follow_symlinks=False)
        return backup
    except FileExistsError:
        if is_link_of(backup, target):
            return None
        raise
    except OSError:  # no hard links here (some network and FAT file systems): copy
        pass
    import shutil
    import tempfile

    remove_stale_temps(backup)
    fd, temp_name = tempfile.mkstemp(prefix=temp_prefix(backup), suffix=_TEMP_SUFFIX, dir=backup.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(target, "rb") as source:
            shutil.copyfileobj(source, out, CHUNK_SIZE)
            out.flush()
            os.fsync(out.fileno())
        shutil.copymode(target, temp_name)
        if os.path.lexists(backup):
            raise FileExistsError(errno.EEXIST, "an earlier backup is in the way", str(backup))
        os.replace(temp_name, backup)
    except BaseException:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise
    return backup


def temp_prefix(target: Path) -> str:
    """How our temporary files for ``target`` are named (``.<name>.edi-rehab-``)."""
    return f".{target.name}{_TEMP_MARK}"


def remove_stale_temps(target: Path, *, older_than: float = STALE_TEMP_SECONDS) -> list[str]:
    """Remove the temporary files a killed run left for ``target`` (ours by name, a regular
    file owned by this user, unchanged for ``older_than`` seconds); the names removed.
    Best effort: a folder that cannot be listed is left alone."""
    import time

    folder = target.parent
    prefix = temp_prefix(target)
    removed = []
    limit = time.time() - older_than
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(_TEMP_SUFFIX)):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and info.st_mtime < limit:
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:
            continue
    return removed


def _regular_target(path: str) -> Path:
    """The file the rename should replace: through a symlink, the file it points to (so the
    link stays a link); raises OSError for a FIFO, a device, a socket or a folder, which a
    rename would silently replace with a regular file (``-o /dev/null`` once did)."""
    from pathlib import Path

    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise OSError(errno.EINVAL, f"it is {kind}; only a regular file is replaced", str(target))
    return target


def _give_mode(fd: int, target: Path) -> None:
    """The permissions ``target`` has (or a new file would get under the umask), not
    mkstemp's private 0600: the renamed file should look like any other written file."""
    try:
        mode = target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        os.fchmod(fd, mode)
    except (OSError, AttributeError):  # pragma: no cover - platforms without fchmod
        pass


def write_together(files: list[tuple[str, bytes | None]]) -> None:
    """Write several files so that a failure leaves none of them changed.

    Each is written with :func:`write_atomically`; the later ones run inside the earlier
    one's ``keep`` callback, so every file is complete in its temporary before the first
    rename, and an error while writing any of them removes every temporary. ``None``
    removes a file left by an earlier run (an output that is empty this time).
    """
    writes = [(path, data) for path, data in files if data is not None]

    def chain(index: int) -> bool:
        if index == len(writes):
            return True
        path, data = writes[index]
        return write_atomically(path, data, keep=lambda: chain(index + 1))

    chain(0)
    for path, data in files:
        if data is None and os.path.lexists(path):
            os.unlink(path)


def is_link_of(backup: str | Path, target: str | Path) -> bool:
    """``backup`` is a hard link to ``target`` itself (not a symlink, not a copy)."""
    try:
        return not os.path.islink(backup) and os.path.samefile(backup, target)
    except OSError:
        return False


def same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def inside(folder: Path, target: Path) -> bool:
    try:
        target.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def sample_bytes(name: str) -> bytes:
    try:
        from .. import samples

        path = os.path.join(os.path.dirname(samples.__file__), name)  # a plain folder in every normal install
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                return handle.read()
        from importlib import resources

        return resources.files("edi_rehab.samples").joinpath(name).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        raise InputProblem(f"the bundled sample {name} is missing from this installation") from None
