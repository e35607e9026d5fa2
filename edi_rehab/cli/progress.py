"""Long runs: the progress bar on a terminal and the pool of worker processes."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import contextmanager


class Progress:
    """A progress bar on stderr for long runs, drawn by tqdm: bytes read against the inputs'
    total (so one large file moves it too), the files done, the rate and the time left.

    Drawn only when ``stream`` is a terminal and the run is not quiet (never into a pipe, a
    log or a test runner's capture), and only once the run has taken ``delay`` seconds:
    short runs, a hook's usual case, stay silent and never import tqdm. Redrawn at most every
    ``interval`` seconds. :meth:`clear` takes it off the screen before anything else is
    printed (it comes back with the next step); :meth:`close` removes it for good.
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
        self.bar = None
        #: whether the bar is on the screen now (clearing a cleared bar would cost a write
        #: per output line, and a run printing a million findings has a million of those)
        self.shown = False

    def advance(self, size: int = 0, files: int = 0) -> None:
        self.bytes += size
        self.files += files
        if not self.enabled:
            return
        try:
            if self.bar is None:
                if self.clock() - self.started < self.delay:
                    return
                self.bar = self._open_bar()
                self.shown = True
            elif self.bar.update(size):  # True when it redrew
                self.shown = True
            if files:
                self.bar.set_postfix_str(self._files_text(), refresh=False)
        except (OSError, ValueError):  # the terminal went away: run on without a bar
            self.enabled, self.bar = False, None

    def clear(self) -> None:
        if self.bar is not None and self.shown:
            self.shown = False
            try:
                self.bar.clear()
            except (OSError, ValueError):
                self.enabled, self.bar = False, None

    def close(self) -> None:
        """Take the bar off the screen at the end of the run (``leave=False``: no last line)."""
        bar, self.bar, self.enabled = self.bar, None, False
        if bar is not None:
            try:
                bar.close()
            except (OSError, ValueError):
                pass

    def _files_text(self) -> str:
        return f"{self.files}/{self.total_files} files"

    def _open_bar(self):
        from tqdm import tqdm  # only a run long enough to show a bar pays for the import

        class Bar(tqdm):
            # No monitor thread: advance() drives every redraw, and no thread should be
            # alive when the worker pool forks its processes.
            monitor_interval = 0

        # A terminal that reports no size (a fresh pseudo-terminal, some CI runners) would
        # make tqdm draw nothing at all: take 80 by 24 then, as shutil does.
        columns, rows = _terminal_size(self.stream)
        bar = Bar(
            total=self.total_bytes or None,
            initial=self.bytes,
            unit="B",
            unit_scale=True,
            unit_divisor=1000,
            file=self.stream,
            leave=False,
            mininterval=self.interval,
            ncols=columns,
            nrows=rows,
            postfix=self._files_text(),
        )
        # its clock starts now; say how long the run took before the bar appeared
        bar.start_t -= self.clock() - self.started
        return bar


def _terminal_size(stream) -> tuple[int, int]:
    import os

    try:
        size = os.get_terminal_size(stream.fileno())
        columns, rows = size.columns, size.lines
    except (AttributeError, ValueError, OSError):  # not a real terminal (a test's stand-in)
        columns = rows = 0
    return columns or 80, rows or 24


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
