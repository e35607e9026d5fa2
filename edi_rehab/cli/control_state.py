"""The control-number counter in a state file: the I/O half of :mod:`edi_rehab.control_numbers`.

The file is ``control-numbers.json`` in the user's state folder (platformdirs'
``user_state_dir``: ``~/.local/state/edi-rehab`` on Linux), or in ``$EDI_REHAB_STATE_DIR``
when that is set (tests, or a clearinghouse that keeps state on a shared volume).

Why it never hands out a number twice, even to runs at the same moment: a run opens the
file, takes an exclusive ``flock`` on it, reads the state, writes the new state to a
temporary file in the same folder (fsynced) and renames it over the state file while it
still holds the lock. A run that was waiting for the lock then holds a lock on the *old*
file, which is no longer at the path: it sees that the path now names another file (device
and inode differ), lets go and starts again on the new one. So reading and replacing the
state is one step for every run, and a crash leaves the old state or the new one, never a
half-written file.

Numbers are taken once a run knows how many it needs and before it writes; a run that
then fails to write leaves a gap in the sequence, never a repeat.

A damaged state file is not repaired: starting over could repeat numbers already sent to a
payer. The run stops with :class:`CounterProblem` (exit 2) naming the file and what is
wrong; the operator fixes or removes it, or passes ``--control-number``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..control_numbers import SenderKey, StateError, allocate, parse_state, render_state

#: Set to a folder to keep the counter there instead of the user's state folder.
STATE_DIR_ENV = "EDI_REHAB_STATE_DIR"
STATE_FILE_NAME = "control-numbers.json"


class CounterProblem(Exception):
    """The counter cannot be used (damaged state, unwritable folder); reported as exit 2."""


def state_folder() -> Path:
    configured = os.environ.get(STATE_DIR_ENV)
    if configured:
        return Path(configured)
    import platformdirs  # here: only runs that write an interchange need it

    return Path(platformdirs.user_state_dir("edi-rehab", appauthor=False))


def clock_seed() -> int:
    """Where a sender new to the state starts: YYDDDHHMM, as ``split`` once numbered from the clock."""
    from datetime import datetime

    return int(datetime.now().strftime("%y%j%H%M"))


class StateFileCounter:
    """:class:`~edi_rehab.control_numbers.NumberSource` over the locked state file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else state_folder() / STATE_FILE_NAME

    def take(self, senders: Sequence[SenderKey]) -> list[int]:
        if not senders:
            return []
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows has no flock
            raise CounterProblem("this platform has no file locks for the control-number counter; pass --control-number") from None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            while True:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    if not self._still_at_path(fd):
                        continue  # another run replaced the file while we waited: lock the new one
                    state = parse_state(_read_fd(fd).decode("utf-8"))
                    numbers, new_state = allocate(state, senders, seed=clock_seed())
                    self._replace(render_state(new_state).encode("utf-8"))
                    return numbers
                finally:
                    os.close(fd)  # lets go of the lock
        except (StateError, UnicodeDecodeError) as error:
            reason = str(error) if isinstance(error, StateError) else "not UTF-8 text"
            raise CounterProblem(
                f"{self.path}: the control-number state is damaged ({reason}); nothing was numbered. "
                "Repair it (the last number sent per sender) or remove it if no interchange numbered from it "
                "was sent, or pass --control-number"
            ) from None
        except OSError as error:
            raise CounterProblem(
                f"{self.path}: cannot keep the control-number counter: {error.strerror or error}; "
                f"set {STATE_DIR_ENV} to a writable folder or pass --control-number"
            ) from None

    def _still_at_path(self, fd: int) -> bool:
        try:
            now = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        held = os.fstat(fd)
        return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)

    def _replace(self, data: bytes) -> None:
        import tempfile

        from .files import temp_prefix, remove_stale_temps

        folder = self.path.parent
        remove_stale_temps(self.path)  # a run killed between its write and its rename
        fd, temp = tempfile.mkstemp(prefix=temp_prefix(self.path), suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            raise
        try:  # the rename itself survives a power cut once the folder is synced
            dir_fd = os.open(folder, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)


def _read_fd(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)
