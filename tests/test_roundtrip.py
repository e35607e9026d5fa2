"""Lossless reading (libcst's test_roundtrip, sqlfluff's raw segments): for every input,
``parse(b).to_bytes() == b`` and the segments' raw bytes, joined, are ``b`` again."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import fixture_files, ids, sample_files
from edi_rehab.synth import SynthSpec, generate_835, generate_837p
from edi_rehab.x12 import parse


def assert_lossless(data: bytes) -> None:
    doc = parse(data)
    assert doc.to_bytes() == data
    assert doc.to_bytes() == data  # twice: reading views must not disturb the bytes (python-hl7)
    assert b"".join(segment.raw for segment in doc.segments()) == data
    assert b"".join(event.raw for event in doc.events()) == data


FIXTURES = fixture_files(".x12")
SAMPLES = [path for path in sample_files() if path.suffix != ".tsv" and path.name != "LICENSES"]


def test_there_are_fixtures():
    assert {"sample-837p.x12", "sample-835.x12"} <= {path.name for path in FIXTURES}


@pytest.mark.parametrize("path", FIXTURES, ids=ids(FIXTURES))
def test_committed_fixtures_round_trip(path):
    assert_lossless(path.read_bytes())


@pytest.mark.parametrize("path", SAMPLES, ids=ids(SAMPLES))
def test_public_samples_round_trip(path):
    assert_lossless(path.read_bytes())


def test_whitespace_after_the_last_iea_is_the_end_of_input():
    # Line breaks after IEA belong to the IEA; any other whitespace (spaces, NUL padding)
    # belongs to no segment and is kept on the end-of-input event, with a warning.
    data = generate_837p(claims=1).data + b"\r\n   \x00"
    doc = parse(data)
    assert doc.to_bytes() == data
    assert b"".join(segment.raw for segment in doc.segments()) + doc.end.raw == data
    assert doc.end.raw == b"   \x00"
    assert [w.kind for w in doc.end.warnings] == ["trailing-bytes"]


# -- generated files with any legal delimiters ------------------------------------------

_PUNCTUATION = "*|~!^:>{}'_+#@;$%&/=?<`\\"


@st.composite
def delimiter_sets(draw):
    """Four distinct separators; the terminator may be a newline or carriage return."""
    element, component, repetition = draw(
        st.lists(st.sampled_from(_PUNCTUATION), min_size=3, max_size=3, unique=True)
    )
    used = {element, component, repetition}
    terminator = draw(st.sampled_from([c for c in _PUNCTUATION + "\n\r" if c not in used]))
    breaks = [b for b in ("", "\n", "\r\n") if terminator not in b]
    return element + component + repetition + terminator, draw(st.sampled_from(breaks))


@st.composite
def specs(draw):
    first, line_break = draw(delimiter_sets())
    interchanges = draw(st.integers(1, 2))
    sets = [first]
    for _ in range(interchanges - 1):
        other, other_break = draw(delimiter_sets())
        if line_break and other[3] in line_break:
            other = first
        sets.append(other)
    return SynthSpec(
        seed=draw(st.integers(0, 10_000)),
        claims=draw(st.integers(interchanges, 4)),
        lines_per_claim=(1, draw(st.integers(1, 5))),
        dates_per_claim=(1, draw(st.integers(1, 3))),
        disciplines=draw(st.sampled_from([("PT",), ("OT",), ("SLP",), ("PT", "OT", "SLP")])),
        filing_indicators=("MB", "CI"),
        delimiters=tuple(sets),
        line_break=line_break,
        interchanges=interchanges,
        claims_per_transaction=draw(st.integers(1, 3)),
        patient_share=0.5,
        line_rendering_share=0.2,
        defect_rate=draw(st.sampled_from([0.0, 0.3])),
    )


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs())
def test_generated_files_round_trip(spec):
    generated = generate_837p(spec)
    assert_lossless(generated.data)
    delims = spec.delimiter_sets[0]
    assert_lossless(generate_835(generated, delimiters=delims, line_break=spec.line_break, reversals=(1,)).data)
