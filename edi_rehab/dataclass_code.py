"""Compiled dataclass methods kept between runs, so that a process does not compile them again.

Why: ``@dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and
(frozen) ``__setattr__``/``__delattr__`` as source text and compiles it with ``exec`` while the
module is imported. Importing the check path creates 55 dataclasses, and compiling their
methods was about 20 ms of a 5-claim check's ~100 ms (issue 13, bench/README.md); a hook
starts one process per file.

How: :func:`install` gives the ``dataclasses`` module its own ``exec`` (a module global shadows
the builtin for that module alone), which looks the source text up in a table of code objects
and compiles only what it has not seen. A code object is used only for exactly the text it was
compiled from, compiled the way ``exec`` compiles a string (no inherited ``__future__`` flags),
so the classes are the ones ``dataclasses`` would make. The table travels as a marshal blob
headed by the package version and the interpreter's version, since marshal and code objects
are per interpreter: a blob from another version is ignored. No I/O here: the command line
reads and writes the blob (``edi_rehab/cli/cache.py``).

The table holds the methods of every class any command (or a dependency) has created, and
one run uses a part of it, so each code object is kept marshalled on its own and loaded on
its first use: reading the blob costs the copying of its texts and bytes, not the building
of every code object in it (486 of them were ~11.5 M instructions on every run).
"""

import marshal
import sys
from types import CodeType

from . import __version__

#: What a blob must start with to be used: code objects are only valid for the interpreter
#: that compiled them, and the format is ours (2: each code object marshalled on its own).
HEADER = f"edi-rehab {__version__} dataclass-code 2 {sys.implementation.cache_tag} {sys.version}"


class MethodCode:
    """The table of compiled method sources (a code object, or its marshal bytes until it
    is first used), and how many entries this run added or repaired."""

    __slots__ = ("codes", "added")

    def __init__(self, codes: dict[str, CodeType | bytes]) -> None:
        self.codes = codes
        self.added = 0

    def exec(self, source, globals=None, locals=None, /):  # noqa: A002 - exec's own names
        """``exec`` as ``dataclasses`` calls it, from the table when the source was seen."""
        if not isinstance(source, str):
            return exec(source, globals, locals)
        code = self.codes.get(source)
        if code.__class__ is bytes:
            code = _loaded(code)
            if code is not None:
                self.codes[source] = code  # a second class with the same text reuses it
        if code is None:
            # As exec(source) compiles it: file "<string>", no flags taken from this module.
            code = compile(source, "<string>", "exec", dont_inherit=True)
            self.codes[source] = code
            self.added += 1
        return exec(code, globals, locals)

    def used(self) -> dict[str, CodeType]:
        """The entries this run compiled or loaded: what its command needs."""
        return {source: code for source, code in self.codes.items() if code.__class__ is not bytes}


def _loaded(blob: bytes) -> CodeType | None:
    """The code object marshalled in ``blob``; ``None`` when it is damaged (then the source is
    compiled again and the entry replaced)."""
    try:
        code = marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def install(codes: dict[str, CodeType | bytes]) -> MethodCode:
    """Make ``dataclasses`` compile through a table starting with ``codes``; returns the table.

    Call it before the modules that define dataclasses are imported. Installing twice keeps
    the first table (the later codes are added to it)."""
    import dataclasses

    current = getattr(dataclasses, "exec", None)
    table = getattr(current, "__self__", None)
    if isinstance(table, MethodCode):
        for source, code in codes.items():
            table.codes.setdefault(source, code)
        return table
    table = MethodCode(dict(codes))
    dataclasses.exec = table.exec
    return table


def encode_codes(codes: dict[str, CodeType | bytes]) -> bytes:
    """The blob of ``codes``; entries still marshalled are written as they were read."""
    return marshal.dumps((HEADER, {source: code if code.__class__ is bytes else marshal.dumps(code) for source, code in codes.items()}))


def decode_codes(blob: bytes) -> dict[str, bytes]:
    """The table in ``blob``, each code object still marshalled; empty when the blob is
    damaged or from another version."""
    try:
        header, codes = marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return {}
    if header != HEADER or not isinstance(codes, dict):
        return {}
    if not all(key.__class__ is str and value.__class__ is bytes for key, value in codes.items()):
        return {}
    return codes
