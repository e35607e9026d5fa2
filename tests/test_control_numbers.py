"""Control numbers that never repeat for one sender (issue 12 items 1 and 2).

The pure part (edi_rehab.control_numbers) and the locked state file (cli/control_state.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edi_rehab.cli.control_state import STATE_DIR_ENV, STATE_FILE_NAME, CounterProblem, StateFileCounter
from edi_rehab.control_numbers import (
    MAX_CONTROL,
    SenderKey,
    Sequential,
    StateError,
    allocate,
    following,
    interchange_senders,
    parse_state,
    render_state,
    renumber_interchanges,
)
from edi_rehab.synth import SynthSpec, generate_837p
from edi_rehab.x12 import parse

A = SenderKey.of("SUBMITTER      ", "PAYER          ")
B = SenderKey.of("OTHER", "PAYER")


# -- the pure part ---------------------------------------------------------------------------------
def test_sender_keys_ignore_the_padding():
    assert SenderKey.of("  SUB  ", "PAY           ") == SenderKey("SUB", "PAY")


def test_a_new_sender_starts_at_the_seed_and_each_next_adds_one():
    numbers, state = allocate({}, [A, A, B, A], seed=500)
    assert numbers == [500, 501, 500, 502]
    assert state == {A: 502, B: 500}
    again, state = allocate(state, [B, A], seed=9)
    assert again == [501, 503] and state == {A: 503, B: 501}


def test_the_counter_wraps_from_nine_nines_to_one():
    assert following(MAX_CONTROL - 1, 3) == [MAX_CONTROL, 1, 2]
    numbers, state = allocate({A: MAX_CONTROL}, [A], seed=7)
    assert numbers == [1] and state[A] == 1


def test_state_text_round_trips_and_empty_text_is_a_fresh_state():
    state = {A: 12, B: MAX_CONTROL}
    assert parse_state(render_state(state)) == state
    assert parse_state("") == {} and parse_state("  \n") == {}


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"senders": []}',
        '{"format": "edi-rehab control numbers 1", "senders": {}}',
        '{"format": "edi-rehab control numbers 1", "senders": [{"isa06": "A", "isa08": "B", "last": 0}]}',
        '{"format": "edi-rehab control numbers 1", "senders": [{"isa06": "A", "isa08": "B", "last": "12"}]}',
        '{"format": "edi-rehab control numbers 1", "senders": [{"isa06": "A", "isa08": "B", "last": true}]}',
        '{"format": "edi-rehab control numbers 1", "senders": [{"isa06": "A", "isa08": "B", "last": 1},'
        ' {"isa06": "A ", "isa08": "B", "last": 2}]}',
        "[" * 100_000,
    ],
)
def test_a_damaged_state_is_an_error_not_a_guess(text):
    with pytest.raises(StateError):
        parse_state(text)


def test_sequential_is_the_override_and_refuses_to_pass_nine_nines():
    source = Sequential(41)
    assert source.take([A, B]) == [41, 42] and source.take([A]) == [43]
    with pytest.raises(ValueError):
        Sequential(MAX_CONTROL).take([A, A])


def three_interchanges() -> bytes:
    return generate_837p(SynthSpec(seed=3, claims=6, claims_per_transaction=2, interchanges=3)).data


def test_renumbering_touches_only_isa13_iea02_gs06_ge02():
    data = three_interchanges()
    out = renumber_interchanges(data, [7, 8, 999_999_999])
    before, after = parse(data), parse(out)
    for old, new, number in zip(before.interchanges, after.interchanges, [7, 8, 999_999_999]):
        assert new.header.segment.element(13) == f"{number:09d}" == new.trailer.segment.element(2)
        for group in new.groups:
            assert group.header.segment.element(6) == str(number) == group.trailer.segment.element(2)
        assert len(new.header.segment.text) == len(old.header.segment.text)  # ISA stays fixed-width
    assert [s.id for s in before.segments()] == [s.id for s in after.segments()]
    changed = [
        (a.id, i)
        for a, b in zip(before.segments(), after.segments())
        for i, (x, y) in enumerate(zip(a.elements, b.elements))
        if x != y
    ]
    assert {c for c in changed} <= {("ISA", 13), ("IEA", 2), ("GS", 6), ("GE", 2)}
    assert interchange_senders(out) == interchange_senders(data)
    with pytest.raises(ValueError):
        renumber_interchanges(data, [1, 2])


# -- the state file ----------------------------------------------------------------------------------
def test_two_takes_never_repeat_and_the_state_is_kept(tmp_path):
    counter = StateFileCounter(tmp_path / STATE_FILE_NAME)
    first = counter.take([A, A])
    second = StateFileCounter(tmp_path / STATE_FILE_NAME).take([A, B])
    assert first[1] == first[0] + 1 and second[0] == first[1] + 1
    assert parse_state((tmp_path / STATE_FILE_NAME).read_text()) == {A: second[0], B: second[1]}


def test_the_state_folder_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    StateFileCounter().take([A])
    assert (tmp_path / "state" / STATE_FILE_NAME).is_file()


def test_a_damaged_state_file_is_a_clear_problem_and_left_as_it_was(tmp_path):
    path = tmp_path / STATE_FILE_NAME
    path.write_bytes(b'{"format": "edi-rehab control numbers 1", "senders": [{"isa06": "A"')
    with pytest.raises(CounterProblem, match="damaged") as raised:
        StateFileCounter(path).take([A])
    assert str(path) in str(raised.value) and "--control-number" in str(raised.value)
    assert path.read_bytes().endswith(b'"isa06": "A"')
    path.write_bytes(b"\xff\xfe not text")
    with pytest.raises(CounterProblem, match="not UTF-8"):
        StateFileCounter(path).take([A])


def test_an_unusable_state_folder_is_a_clear_problem(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    with pytest.raises(CounterProblem, match="cannot keep the control-number counter"):
        StateFileCounter(blocker / STATE_FILE_NAME).take([A])


TAKER = textwrap.dedent(
    """
    import sys
    from edi_rehab.cli.control_state import StateFileCounter
    from edi_rehab.control_numbers import SenderKey
    counter = StateFileCounter(sys.argv[1])
    key = SenderKey("SUB", "PAY")
    print("ready", flush=True)
    sys.stdin.readline()  # start together: every process is loaded before any takes
    taken = []
    for _ in range(int(sys.argv[2])):
        taken += counter.take([key, key])
    print(" ".join(map(str, taken)))
    """
)


def test_concurrent_processes_get_disjoint_numbers(tmp_path):
    path = tmp_path / STATE_FILE_NAME
    rounds = 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", TAKER, str(path), str(rounds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    assert [proc.stdout.readline() for proc in procs] == ["ready\n"] * 3
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert all(proc.returncode == 0 for proc in procs)
    sets = [set(map(int, out.split())) for out in outputs]
    assert all(len(s) == 2 * rounds for s in sets)
    union = set().union(*sets)
    assert len(union) == 3 * 2 * rounds  # disjoint
    # and nothing was skipped: the numbers are one run from the first
    assert max(union) - min(union) == len(union) - 1
    assert parse_state(path.read_text())[SenderKey("SUB", "PAY")] == max(union)
    assert not [p for p in tmp_path.iterdir() if p.name != STATE_FILE_NAME]  # no temp left


def test_the_state_file_is_json_an_operator_can_read(tmp_path):
    path = tmp_path / STATE_FILE_NAME
    StateFileCounter(path).take([A])
    document = json.loads(path.read_text())
    assert document["senders"][0]["isa06"] == "SUBMITTER" and document["senders"][0]["isa08"] == "PAYER"
    assert Path(path).stat().st_mode & 0o077 == 0  # private to the user
