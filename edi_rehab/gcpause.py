"""Pausing Python's cyclic garbage collector around per-event work.

Checking, fixing and matching build many small objects per transaction (views, rule
contexts, findings, rows). Reference counting frees them when their transaction is done:
the few reference cycles are broken explicitly (``ClaimContext.release``). The cyclic
collector only adds full scans over 5,000-claim transactions, which measured cost more than
the rules themselves, so library code pauses it while it works and puts it back as the
caller set it before handing a result over: the caller's own code always runs with the
collector as the caller left it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

__all__ = ["collector_paused", "each_with_collector_paused", "pause_for_start_up", "end_of_start_up"]

T = TypeVar("T")
R = TypeVar("R")
_END = object()

#: Whether :func:`pause_for_start_up` turned the collector off and :func:`end_of_start_up`
#: has not turned it back on yet.
_paused_for_start_up = False


def pause_for_start_up() -> None:
    """The console script's start-up (importing the command, unpickling the maps, building the
    checker) runs with the collector off: it creates tens of thousands of objects that all
    live until the process ends, and scanning them again and again as they pile up was ~9 M
    instructions of a 5-claim check's ~315 M (issue 13). Only the console script calls this,
    before it imports a command; :func:`end_of_start_up` turns the collector back on."""
    global _paused_for_start_up
    if gc.isenabled():
        gc.disable()
        _paused_for_start_up = True


def end_of_start_up() -> None:
    """Turn the collector back on after :func:`pause_for_start_up`, with every object made so
    far moved out of its reach (``gc.freeze``): they are modules, classes, the maps and the
    checker, which live as long as the process, so later collections need not scan them
    again. Does nothing when the start-up was not paused (a test's ``CliRunner``, a program
    calling ``main``), or a second time."""
    global _paused_for_start_up
    if _paused_for_start_up:
        _paused_for_start_up = False
        gc.freeze()
        gc.enable()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, unless the caller already turned it off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def each_with_collector_paused(handle: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """``handle(item)`` for each item, the collector paused while the next item is produced
    (reading the next transaction) and handled, and restored while the caller holds the result."""
    iterator = iter(items)
    disable, enable, isenabled = gc.disable, gc.enable, gc.isenabled
    while True:
        # What collector_paused does, without a context manager object per item: a file of
        # one-claim transaction sets is thousands of items, and building and entering one
        # each time cost more than pausing itself.
        paused = isenabled()
        if paused:
            disable()
        try:
            item = next(iterator, _END)
            if item is _END:
                return
            result = handle(item)  # type: ignore[arg-type]
        finally:
            if paused:
                enable()
        yield result
        result = None  # let the caller free the transaction before the next one is read
