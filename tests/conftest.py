"""Shared test helpers: where the committed fixtures and the public samples live.

The public samples (/work/shared/samples/x12 locally, ``../shared/samples`` in CI) are
never copied into the project. Tests that need them take their paths from
:func:`sample_files`, which is empty when the folder is absent, so parametrized tests
are reported as skipped rather than failing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


def samples_dir() -> Path | None:
    """The folder of public X12 samples, or ``None`` when it is not there.

    ``EDI_REHAB_SAMPLES`` wins when set; it may name the samples folder or its ``x12``
    subfolder. Otherwise ``../shared/samples`` next to the repository.
    """
    configured = os.environ.get("EDI_REHAB_SAMPLES")
    base = Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "samples"
    for candidate in (base / "x12", base):
        if (candidate / "MANIFEST.tsv").is_file():
            return candidate
    return None


def sample_files(pattern: str = "*") -> list[Path]:
    """Public sample files matching ``pattern`` (``MANIFEST.tsv`` and licenses left out)."""
    folder = samples_dir()
    if folder is None:
        return []
    return sorted(p for p in folder.glob(pattern) if p.is_file() and p.name != "MANIFEST.tsv")


def sample(name: str) -> bytes:
    """The bytes of one public sample; skips the test when the samples are absent."""
    folder = samples_dir()
    if folder is None or not (folder / name).is_file():
        pytest.skip(f"public sample {name} not available (set EDI_REHAB_SAMPLES)")
    return (folder / name).read_bytes()


def fixture_files(suffix: str = ".x12") -> list[Path]:
    """Committed fixtures with ``suffix``, sorted."""
    return sorted(FIXTURES.glob(f"*{suffix}"))


def ids(paths: list[Path]) -> list[str]:
    """Readable pytest ids for a list of paths."""
    return [path.name for path in paths]


# -- the command line, for the CLI tests -----------------------------------------------------------
@pytest.fixture(autouse=True)
def private_state_folder(tmp_path_factory, monkeypatch):
    """Every test's control-number counter lives in a folder of its own, never the user's."""
    monkeypatch.setenv("EDI_REHAB_STATE_DIR", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Invoke ``edi-rehab`` in-process with its own cache folder; no traceback may escape."""
    from click.testing import CliRunner

    from edi_rehab.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def invoke(*args, input=None):
        result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
        assert "Traceback" not in result.output
        return result

    return invoke


@pytest.fixture
def files(tmp_path):
    """``files(name, data)`` writes ``data`` (bytes or text) into the test's folder; returns the path."""

    def write(name, data):
        path = tmp_path / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        return str(path)

    return write


def mue_csv(rows: list[str], header: str | None = None) -> bytes:
    """A CMS practitioner MUE file in the official layout (a notice line, then the header),
    with ``rows`` as its CSV lines."""
    header = header or '"HCPCS/CPT Code","Practitioner Services MUE Values","MUE Adjudication Indicator","MUE Rationale"'
    lines = ['"CPT codes and descriptions only are copyright 2025 American Medical Association. All rights reserved."', header]
    return ("\r\n".join(lines + rows) + "\r\n").encode("latin-1")
