"""The inputs of a run: files as given, folders walked in a fixed order, standard input."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .files import InputProblem, display_name, read_chunks
from .output import warn


@dataclass(frozen=True)
class Input:
    """One input of a run: a file, standard input (``-``) or bytes in memory (``--sample``)."""

    path: str
    name: str
    #: Bytes, when known before reading (a regular file); ``None`` for a stream.
    size: int | None = None
    #: Its path inside the folder argument it was found in (``None``: named directly).
    relative: str | None = None
    data: bytes | None = None

    def chunks(self) -> Iterable[bytes]:
        return [self.data] if self.data is not None else read_chunks(self.path)


def walk_folder(
    root: str, skip: Iterable[str] = (), seen_files: set[tuple[int, int]] | None = None
) -> Iterator[tuple[str, str, int]]:
    """``(path, path relative to root, size)`` of every file a folder run picks, in order.

    Picked: regular files, and links to them, anywhere below ``root``. Each folder's entries
    are visited in name order (code-point order), depth-first, so the order is the same on
    every machine. Skipped: names starting with a dot (files and folders), anything that is
    not a regular file or folder (FIFOs, sockets, devices: reading one could block the run),
    links that lead nowhere (with a warning), and the folders in ``skip`` (where the run
    writes its 999s). Links to folders are followed, but every folder and every file is
    visited once (by device and inode), so a link loop ends; ``seen_files`` (device, inode)
    carries that across several walks. Raises :class:`InputProblem` when a folder cannot be
    listed.
    """
    seen_folders: set[tuple[int, int]] = set()
    if seen_files is None:
        seen_files = set()
    for folder in skip:
        try:
            info = os.stat(folder)
        except OSError:
            continue
        seen_folders.add((info.st_dev, info.st_ino))

    def listing(folder: str, relative: str) -> Iterator[tuple[str, str, os.stat_result | None]]:
        try:
            with os.scandir(folder) as entries:
                names = sorted(entry.name for entry in entries)
        except OSError as error:
            raise InputProblem(f"{folder}: cannot list: {error.strerror}") from None
        for name in names:
            if name.startswith("."):
                continue
            path = os.path.join(folder, name)
            try:
                info = os.stat(path)
            except OSError:
                warn(f"{path}: a link that leads nowhere, or unreadable; skipped")
                continue
            yield path, os.path.join(relative, name) if relative else name, info

    info = os.stat(root)
    seen_folders.add((info.st_dev, info.st_ino))
    stack = [listing(root, "")]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        path, relative, info = entry
        key = (info.st_dev, info.st_ino)
        if stat.S_ISDIR(info.st_mode):
            if key not in seen_folders:
                seen_folders.add(key)
                stack.append(listing(path, relative))
        elif stat.S_ISREG(info.st_mode) and key not in seen_files:
            seen_files.add(key)
            yield path, relative, info.st_size


def expand_inputs(args: tuple[str, ...], *, skip: Iterable[str] = ()) -> list[Input]:
    """The inputs the arguments name, in order: files as given, folders walked
    (:func:`walk_folder`), ``-`` for standard input. A file named twice (``check a a/b``, or
    a file and its folder) is read once, where it first comes. Raises :class:`InputProblem`
    for a second ``-`` or a folder with nothing to pick."""
    if args.count("-") > 1:
        raise InputProblem("standard input (-) can be read only once")
    inputs: list[Input] = []
    seen_files: set[tuple[int, int]] = set()
    for arg in args:
        if arg == "-":
            inputs.append(Input("-", display_name("-")))
            continue
        try:
            info = os.stat(arg)
        except OSError:
            inputs.append(Input(arg, arg))  # reading it says why it cannot be read
            continue
        if not stat.S_ISDIR(info.st_mode):
            if stat.S_ISREG(info.st_mode):
                key = (info.st_dev, info.st_ino)
                if key in seen_files:
                    continue
                seen_files.add(key)
            inputs.append(Input(arg, arg, info.st_size if stat.S_ISREG(info.st_mode) else None))
            continue
        found = [Input(path, path, size, relative) for path, relative, size in walk_folder(arg, skip, seen_files)]
        if not found and next(walk_folder(arg, skip), None) is None:
            raise InputProblem(f"{arg}: no files to read in this folder (hidden files and folders are skipped)")
        inputs += found
    return inputs



def total_size(inputs: list[Input]) -> int | None:
    sizes = [inp.size for inp in inputs]
    return None if any(size is None for size in sizes) else sum(sizes)  # type: ignore[misc]
