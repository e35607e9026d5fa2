"""Long runs: the progress line on a terminal and the pool of worker processes."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager


class Progress:
    """A progress line on stderr for long runs.

    Drawn only when ``stream`` is a terminal and the run is not quiet, and only once the run
    has taken ``delay`` seconds (short runs stay silent); redrawn at most every ``interval``
    seconds. :meth:`clear` takes it off the screen before anything else is printed.
    """

    def __init__(
        self,
        total_files: int,
        total_bytes: int | None,
        *,
        enabled: bool,
        stream=None,
        delay: float = 0.5,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and _is_terminal(self.stream)
        self.total_files, self.total_bytes = total_files, total_bytes
        self.files = self.bytes = 0
        self.delay, self.interval, self.clock = delay, interval, clock
        self.started = clock()
        self.drawn_at: float | None = None
        self.shown = 0

    def advance(self, size: int = 0, files: int = 0) -> None:
        self.bytes += size
        self.files += files
        if not self.enabled:
            return
        now = self.clock()
        if now - self.started < self.delay or (self.drawn_at is not None and now - self.drawn_at < self.interval):
            return
        from ..batch import progress_line

        width = _terminal_columns() - 1
        line = progress_line(self.bytes, self.total_bytes, self.files, self.total_files, now - self.started, width)
        self._write("\r" + line + " " * max(0, self.shown - len(line)) + "\r")
        self.shown, self.drawn_at = len(line), now

    def clear(self) -> None:
        if self.shown:
            self._write("\r" + " " * self.shown + "\r")
            self.shown = 0
            self.drawn_at = None

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextmanager
def worker_pool(jobs: int, recipe):
    """A process pool of ``jobs`` workers (``None`` for one job: everything runs here)."""
    if jobs <= 1:
        yield None
        return
    from concurrent.futures import ProcessPoolExecutor

    from ..batch import start_worker

    pool = ProcessPoolExecutor(max_workers=jobs, initializer=start_worker, initargs=(recipe,))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def tracked(ordered, progress: Progress):
    """Pass ``run_in_order``'s results through, counting them on the progress line."""
    for work, value in ordered:
        progress.advance(work.size, 1 if work.kind == "end" else 0)
        yield work, value


def _terminal_columns() -> int:
    # What shutil.get_terminal_size does (COLUMNS first, then the terminal, then 80),
    # without importing shutil and the compression modules it pulls in at start-up.
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stderr__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 80
    return columns or 80
