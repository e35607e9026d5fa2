"""The inputs of a run: files as given, folders walked in a fixed order, standard input."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase

import click

from .files import InputProblem, display_name, read_chunks
from .output import counted, warn

#: Bytes read from a file found in a folder to tell X12 from a README beside it.
SNIFF_BYTES = 4096
_BOM = b"\xef\xbb\xbf"


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


@dataclass(frozen=True)
class FolderFilter:
    """Which files found in a folder a run reads (files named on the command line are
    always read).

    A glob with a ``/`` is matched against the path inside the folder argument (``/``
    between parts, on every system), one without against the name alone; ``*`` also
    crosses ``/``. ``exclude`` wins over ``include``, and an excluded folder is not
    entered. With ``include`` given, only files matching one of its globs are read.
    ``strict``: a file that is not X12 is an input (and so an exit 2), not a skip.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    strict: bool = False

    def excludes(self, relative: str) -> bool:
        return _matches(relative, self.exclude)

    def includes(self, relative: str) -> bool:
        return not self.include or _matches(relative, self.include)


def _matches(relative: str, globs: Iterable[str]) -> bool:
    path = relative.replace(os.sep, "/")
    name = path.rsplit("/", 1)[-1]
    return any(fnmatchcase(path if "/" in glob else name, glob.strip("/")) for glob in globs)


def looks_like_x12(head: bytes) -> bool:
    """Whether a file's first bytes can start X12: an ``ISA`` after an optional UTF-8
    byte-order mark and whitespace (what the reader tolerates). Empty or all-whitespace
    counts as X12 too: an upload cut to nothing is a failed claim file, not a README, and
    reading it says so."""
    text = head.removeprefix(_BOM).lstrip()
    return not text or text.startswith(b"ISA")


def _sniff(path: str) -> bytes | None:
    """The first bytes of ``path``; ``None`` when it cannot be read (reading it later says why)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(SNIFF_BYTES)
    except OSError:
        return None


def folder_options(function):
    """``--include``, ``--exclude`` and ``--strict``, for commands that take folders."""
    for decorator in reversed((
        click.option("--include", multiple=True, metavar="GLOB", help="In folders, read only files matching GLOB (repeatable; replaces the config's include). A GLOB with / is matched against the path inside the folder, else against the name."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="In folders, skip files and folders matching GLOB (repeatable; added to the config's exclude)."),
        click.option("--strict", is_flag=True, help="A file found in a folder that is not X12 is an error (exit 2), not skipped with a warning."),
    )):
        function = decorator(function)
    return function


def walk_folder(
    root: str,
    skip: Iterable[str] = (),
    seen_files: set[tuple[int, int]] | None = None,
    excluded: Callable[[str], bool] | None = None,
) -> Iterator[tuple[str, str, int]]:
    """``(path, path relative to root, size)`` of every file a folder run picks, in order.

    Picked: regular files, and links to them, anywhere below ``root``. Each folder's entries
    are visited in name order (code-point order), depth-first, so the order is the same on
    every machine. Skipped: names starting with a dot (files and folders), anything that is
    not a regular file or folder (FIFOs, sockets, devices: reading one could block the run),
    links that lead nowhere (with a warning), and the folders in ``skip`` (where the run
    writes its 999s). Links to folders are followed, but every folder and every file is
    visited once (by device and inode), so a link loop ends; ``seen_files`` (device, inode)
    carries that across several walks. ``excluded(relative path)`` true: that file or
    folder is passed over (a folder is not entered). Raises :class:`InputProblem` when a
    folder cannot be listed.
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
        if excluded is not None and excluded(relative):
            continue
        key = (info.st_dev, info.st_ino)
        if stat.S_ISDIR(info.st_mode):
            if key not in seen_folders:
                seen_folders.add(key)
                stack.append(listing(path, relative))
        elif stat.S_ISREG(info.st_mode) and key not in seen_files:
            seen_files.add(key)
            yield path, relative, info.st_size


def expand_inputs(
    args: tuple[str, ...], *, skip: Iterable[str] = (), folders: FolderFilter = FolderFilter()
) -> list[Input]:
    """The inputs the arguments name, in order: files as given, folders walked
    (:func:`walk_folder`) and filtered (:class:`FolderFilter`), ``-`` for standard input. A
    file found in a folder that does not start like X12 (a README, a MANIFEST) is skipped
    with a warning, unless ``folders.strict``; a file named on the command line is always
    an input. A file named twice (``check a a/b``, or a file and its folder) is read once,
    where it first comes. Raises :class:`InputProblem` for a second ``-`` or a folder with
    nothing to read."""
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
        found, passed_over = _pick(arg, skip, seen_files, folders)
        excluded = folders.excludes if folders.exclude else None
        if not found and (passed_over or next(walk_folder(arg, skip, excluded=excluded), None) is None):
            # (Empty only because every file was already named: nothing is missing.)
            if not passed_over:
                passed_over = "after --exclude" if folders.exclude else "hidden files and folders are skipped"
            raise InputProblem(f"{arg}: no files to read in this folder ({passed_over})")
        inputs += found
    return inputs


def _pick(
    root: str, skip: Iterable[str], seen_files: set[tuple[int, int]], folders: FolderFilter
) -> tuple[list[Input], str]:
    """The inputs one folder argument stands for, and what was passed over (for the message
    when nothing is left)."""
    found: list[Input] = []
    not_included = not_x12 = 0
    excluded = folders.excludes if folders.exclude else None
    for path, relative, size in walk_folder(root, skip, seen_files, excluded):
        if not folders.includes(relative):
            not_included += 1
            continue
        if not folders.strict:
            head = _sniff(path)
            if head is not None and not looks_like_x12(head):
                warn(f"{path}: not X12 (it does not start with ISA); skipped (--strict makes this an error, --exclude silences it)")
                not_x12 += 1
                continue
        found.append(Input(path, path, size, relative))
    parts = []
    if not_included:
        parts.append(f"{counted(not_included, 'file')} not matched by --include")
    if not_x12:
        parts.append(f"{counted(not_x12, 'file')} not X12, skipped")
    return found, ", ".join(parts)


def total_size(inputs: list[Input]) -> int | None:
    sizes = [inp.size for inp in inputs]
    return None if any(size is None for size in sizes) else sum(sizes)  # type: ignore[misc]
