"""The claim ledger on SQLite and PostgreSQL: recording from each command, idempotence,
patient identifiers kept out, match from the ledger, migrations and the ways a ledger
refuses to be used. Every test runs against a real database (ledgerkit)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, select, text, update

from conftest import FIXTURES
from edi_rehab.ledger import schema as s
from edi_rehab.ledger.store import Ledger, normalise_url, upgrade
from edi_rehab.synth import generate_835, generate_837p, minutes_csv
from ledgerkit import KEY_LINE, ledger_home, ledger_url, pg_schema, the_key  # noqa: F401  (fixtures)

SAMPLE_837 = str(FIXTURES / "sample-837p.x12")
SAMPLE_835 = str(FIXTURES / "sample-835.x12")
SAMPLE_MINUTES = str(FIXTURES / "sample-minutes.csv")


def counts(url: str) -> dict[str, int]:
    with Ledger.open(url, the_key()) as ledger:
        return {name: ledger.count(name) for name in ("files", "claims", "lines", "findings", "remits", "claim_payments", "service_payments", "adjustments", "remarks", "matches")}


def rows(url: str, table) -> list:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(select(table)).mappings().all()
    finally:
        engine.dispose()


def test_check_records_each_claim_line_and_finding_once(run, ledger_url):
    first = run("check", SAMPLE_837, "--minutes", SAMPLE_MINUTES, "--ledger", ledger_url, "-q")
    assert first.exit_code == 1, first.output  # the sample holds claims a payer would deny
    recorded = counts(ledger_url)
    assert recorded["files"] == 1 and recorded["claims"] == 6 and recorded["lines"] == 20
    # every finding check printed, each on its claim and (for line findings) its line
    printed = json.loads(run("check", SAMPLE_837, "--minutes", SAMPLE_MINUTES, "--format", "json").output)
    shown = sorted((f["code"], f["segment"]) for f in printed["files"][0]["findings"])
    stored = rows(ledger_url, s.findings)
    assert sorted((f["code"], f["segment"]) for f in stored) == shown
    assert all(f["claim_id"] is not None for f in stored)
    line_findings = {f["code"] for f in stored if f["line_id"] is not None}
    assert {"U101", "M201", "N301"} <= line_findings and "C401" not in line_findings
    # running the same bytes again, under another command or name, adds nothing
    again = run("check", SAMPLE_837, "--minutes", SAMPLE_MINUTES, "--ledger", ledger_url, "-q")
    assert again.exit_code == 1
    assert counts(ledger_url) == recorded


def test_claims_and_lines_are_recorded_as_sent(run, ledger_url, files):
    synth = generate_837p(claims=4, seed=11, patient_share=1.0, filing_indicators=("CI",))
    path = files("four.x12", synth.data)
    assert run("check", path, "--ledger", ledger_url, "-q").exit_code in (0, 1)
    claims = sorted(rows(ledger_url, s.claims), key=lambda r: r["ordinal"])
    lines = rows(ledger_url, s.lines)
    assert [c["clm01"] for c in claims] == [c.claim_id for c in synth.claims]
    for claim, planned in zip(claims, synth.claims):
        assert claim["charge_cents"] == int(planned.charge * 100)
        assert claim["frequency"] == "1" and claim["filing_indicator"] == "CI"
        assert synth.data[claim["start_byte"] : claim["start_byte"] + 4] == b"CLM*"
        mine = sorted((l for l in lines if l["claim_id"] == claim["id"]), key=lambda l: l["position"])
        assert [l["procedure"] for l in mine] == [line.procedure for line in planned.lines]
        assert [l["units"] for l in mine] == [str(line.units) for line in planned.lines]
        assert [l["control_number"] for l in mine] == [f"{planned.claim_id}-{n}" for n in range(1, len(mine) + 1)]
        assert all(l["service_date"] is not None for l in mine)
    # one patient, one hash; different patients, different hashes
    assert len({c["patient_hash"] for c in claims}) == len({(c.subscriber_id, c.patient_name) for c in synth.claims})


def test_no_patient_identifier_is_stored_in_clear(run, ledger_url, files):
    synth = generate_837p(claims=6, seed=5, patient_share=0.5, filing_indicators=("CI", "MB"))
    path = files("people.x12", synth.data)
    run("check", path, "--ledger", ledger_url, "-q")
    from edi_rehab.ledger.facts import unpack_document

    stored_text = []
    for table in s.metadata.sorted_tables:
        for row in rows(ledger_url, table):
            for value in row.values():
                if isinstance(value, (bytes, memoryview)):
                    value = unpack_document(bytes(value)).decode("latin-1")
                stored_text.append(str(value))
    blob = "\n".join(stored_text)
    for claim in synth.claims:
        assert claim.subscriber_id not in blob
        for last, first in (claim.subscriber_name, *([claim.patient_name] if claim.patient_name else [])):
            assert last not in blob and f"{last}*{first}" not in blob
    assert "PATIENT" not in blob and "SYN0" not in blob


@pytest.mark.parametrize("output_format", ["json", "text", "csv"])
def test_match_from_the_ledger_gives_what_the_files_give(run, ledger_url, output_format):
    record = run("check", SAMPLE_837, "--minutes", SAMPLE_MINUTES, "--ledger", ledger_url, "-q")
    assert record.exit_code == 1
    from_files = run("match", SAMPLE_835, SAMPLE_837, "--minutes", SAMPLE_MINUTES, "--format", output_format)
    from_ledger = run("match", SAMPLE_835, "--minutes", SAMPLE_MINUTES, "--format", output_format, "--ledger", ledger_url)
    assert from_files.exit_code == from_ledger.exit_code == 0
    assert from_ledger.output == from_files.output
    assert "PCN000001" in from_ledger.output


def test_match_from_the_ledger_on_a_generated_pair_with_denials(run, ledger_url, files):
    synth = generate_837p(claims=40, seed=3, defect_rate=0.3, filing_indicators=("MB", "CI"))
    remit = generate_835(synth)
    claims_path = files("batch.x12", synth.data)
    minutes_path = files("minutes.csv", minutes_csv(synth.claims))
    remit_path = files("batch.835", remit.data)
    run("check", claims_path, "--minutes", minutes_path, "--ledger", ledger_url, "-q")
    from_files = run("match", remit_path, claims_path, "--minutes", minutes_path, "--format", "json")
    from_ledger = run("match", remit_path, "--minutes", minutes_path, "--format", "json", "--ledger", ledger_url)
    assert json.loads(from_ledger.output) == json.loads(from_files.output)
    result = json.loads(from_ledger.output)
    assert any(row["category"] != "paid" for row in result["lines"])
    # and match recorded the payments and what it made of them
    recorded = counts(ledger_url)
    assert recorded["remits"] == remit.data.count(b"ST*835*") and recorded["matches"] == len(result["lines"])
    matched = rows(ledger_url, s.matches)
    assert sorted((m["category"], m["action"], m["explaining"]) for m in matched) == sorted(
        (r["category"], r["action"], ",".join(r["findings"])) for r in result["lines"]
    )
    assert all(m["line_id"] is not None for m in matched if m["method"] != "unmatched")
    assert any(m["denied"] for m in matched)


def test_match_records_the_835_with_trace_adjustments_and_remarks(run, ledger_url):
    run("match", SAMPLE_835, SAMPLE_837, "--minutes", SAMPLE_MINUTES, "--ledger", ledger_url)
    remit_rows = rows(ledger_url, s.remits)
    assert remit_rows and all(r["trace_number"] for r in remit_rows)
    payments = rows(ledger_url, s.claim_payments)
    assert all(p["payer_claim_number"] for p in payments)  # CLP07
    assert all(p["patient_hash"] for p in payments)  # joined to the 837 claim's patient
    reasons = {(a["group_code"], a["reason"]) for a in rows(ledger_url, s.adjustments)}
    assert ("CO", "45") in reasons or any(g == "CO" for g, _ in reasons)
    # the claim files given were recorded too, so a later match needs none
    assert counts(ledger_url)["claims"] == 6


def test_match_without_claims_or_ledger_is_a_usage_error(run):
    result = run("match", SAMPLE_835)
    assert result.exit_code == 2 and "--ledger" in result.output


def test_appeal_records_but_needs_the_claim_files(run, ledger_url, tmp_path):
    done = run("appeal", SAMPLE_835, SAMPLE_837, "--minutes", SAMPLE_MINUTES, "-o", str(tmp_path / "out"), "--ledger", ledger_url)
    assert done.exit_code == 0
    assert {m["command"] for m in rows(ledger_url, s.matches)} == {"appeal"}
    alone = run("appeal", SAMPLE_835, "-o", str(tmp_path / "out2"), "--ledger", ledger_url)
    assert alone.exit_code == 2 and "CLAIMS" in alone.output


def test_split_records_its_decision_per_claim(run, ledger_url, tmp_path):
    clean, held = tmp_path / "clean.x12", tmp_path / "held.x12"
    # the hook's order: check records the file, split then adds its decisions
    run("check", SAMPLE_837, "--minutes", SAMPLE_MINUTES, "--ledger", ledger_url, "-q")
    done = run("split", SAMPLE_837, "--minutes", SAMPLE_MINUTES, "--clean", str(clean), "--held", str(held), "--format", "json", "--ledger", ledger_url)
    assert done.exit_code == 1
    report = json.loads(done.output)
    held_ids = {c["claim_id"] for c in report["held_claims"]}
    decisions = {c["clm01"]: c["split_decision"] for c in rows(ledger_url, s.claims)}
    assert {k for k, v in decisions.items() if v == "held"} == held_ids
    assert {k for k, v in decisions.items() if v == "clean"} == set(decisions) - held_ids
    assert counts(ledger_url)["files"] == 1


def test_fix_records_which_findings_it_fixed_and_the_file_it_wrote(run, ledger_url, tmp_path):
    out = tmp_path / "fixed.x12"
    done = run("fix", SAMPLE_837, "--minutes", SAMPLE_MINUTES, "-o", str(out), "--unsafe-fixes", "--format", "json", "--ledger", ledger_url)
    report = json.loads(done.output)
    applied = {(a["code"], a["segment"]) for a in report["applied"]}
    assert applied
    stored_files = {f["name"]: f["id"] for f in rows(ledger_url, s.files)}
    assert set(stored_files) == {SAMPLE_837, str(out)}
    found = rows(ledger_url, s.findings)
    on_input = [f for f in found if f["file_id"] == stored_files[SAMPLE_837]]
    assert {(f["code"], f["segment"]) for f in on_input if f["fixed"]} == applied
    on_output = [f for f in found if f["file_id"] == stored_files[str(out)]]
    assert sorted(f["code"] for f in on_output) == sorted(f["code"] for f in report["remaining"] if f["segment"] >= 1)


def test_jsonl_and_several_jobs_record_the_same(run, ledger_url, files):
    synth = generate_837p(claims=30, seed=9, defect_rate=0.2, claims_per_transaction=7)
    path = files("jobs.x12", synth.data)
    run("check", path, "--format", "jsonl", "--jobs", "2", "--ledger", ledger_url)
    stored = sorted((f["code"], f["segment"]) for f in rows(ledger_url, s.findings))
    printed = json.loads(run("check", path, "--format", "json").output)["files"][0]["findings"]
    assert stored == sorted((f["code"], f["segment"]) for f in printed)


def test_standard_input_is_recorded(run, ledger_url):
    data = open(SAMPLE_837, "rb").read()
    done = run("check", "-", "--ledger", ledger_url, "-q", input=data)
    assert done.exit_code == 1
    assert [f["name"] for f in rows(ledger_url, s.files)] == ["<stdin>"]


def test_ledger_alone_is_a_file_in_the_user_data_folder(run, ledger_home):
    done = run("check", SAMPLE_837, "-q", "--ledger")
    assert done.exit_code == 1
    assert (ledger_home / "ledger.sqlite3").exists()
    assert counts(f"sqlite:///{ledger_home / 'ledger.sqlite3'}")["claims"] == 6


def test_the_config_names_the_ledger_and_its_key(run, tmp_path, files, monkeypatch):
    monkeypatch.delenv("EDI_REHAB_LEDGER_KEY_FILE", raising=False)
    monkeypatch.setenv("EDI_REHAB_DATA_DIR", str(tmp_path / "nowhere"))
    key = files("my.key", KEY_LINE)
    url = f"sqlite:///{tmp_path / 'from-config.sqlite3'}"
    config = files("edi.toml", f'ledger = "{url}"\nledger_key_file = "{key}"\n')
    assert run("check", SAMPLE_837, "--config", config, "-q").exit_code == 1
    assert counts(url)["claims"] == 6
    assert not (tmp_path / "nowhere" / "ledger.key").exists()


def test_a_first_default_run_makes_a_private_key(run, tmp_path, monkeypatch):
    monkeypatch.delenv("EDI_REHAB_LEDGER_KEY_FILE", raising=False)
    monkeypatch.setenv("EDI_REHAB_DATA_DIR", str(tmp_path / "home"))
    assert run("check", SAMPLE_837, "-q", "--ledger").exit_code == 1
    key = tmp_path / "home" / "ledger.key"
    assert key.stat().st_mode & 0o077 == 0
    assert (tmp_path / "home" / "ledger.sqlite3").stat().st_mode & 0o077 == 0
    from edi_rehab.ledger.keys import parse_key_file

    assert len(parse_key_file(key.read_text(), "k").keys) == 1


# -- refusals: exit 2 with a message, never a silent skip ---------------------------------------


def test_an_unreachable_postgresql_ledger_is_exit_2(run, ledger_home):
    done = run("check", SAMPLE_837, "-q", "--ledger", "postgresql://postgres@127.0.0.1:1/test?connect_timeout=3")
    assert done.exit_code == 2
    assert "ledger postgresql://postgres@127.0.0.1:1/test" in done.output and "cannot be opened" in done.output


def test_a_password_never_shows_in_the_message(run, ledger_home):
    done = run("check", SAMPLE_837, "-q", "--ledger", "postgresql://postgres:s3cret@127.0.0.1:1/test?connect_timeout=3")
    assert done.exit_code == 2 and "s3cret" not in done.output and "***" in done.output


def test_a_sqlite_ledger_in_a_missing_folder_is_exit_2(run, tmp_path, ledger_home):
    done = run("check", SAMPLE_837, "-q", "--ledger", f"sqlite:///{tmp_path / 'no' / 'such' / 'l.db'}")
    assert done.exit_code == 2 and "cannot be opened" in done.output


def test_a_value_that_is_no_url_is_exit_2(run, ledger_home):
    done = run("check", "--ledger", SAMPLE_837, SAMPLE_837, "-q")
    assert done.exit_code == 2 and "not a ledger URL" in done.output


def test_another_key_is_refused(run, ledger_url, tmp_path, monkeypatch):
    assert run("check", SAMPLE_837, "-q", "--ledger", ledger_url).exit_code == 1
    other = tmp_path / "other.key"
    other.write_text("a1" * 32 + "\n")
    monkeypatch.setenv("EDI_REHAB_LEDGER_KEY_FILE", str(other))
    done = run("check", SAMPLE_837, "-q", "--ledger", ledger_url)
    assert done.exit_code == 2 and "another patient key" in done.output


def test_a_bad_key_file_is_exit_2(run, tmp_path, monkeypatch, ledger_home):
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    monkeypatch.setenv("EDI_REHAB_LEDGER_KEY_FILE", str(bad))
    done = run("check", SAMPLE_837, "-q", "--ledger", f"sqlite:///{tmp_path / 'l.db'}")
    assert done.exit_code == 2 and "64 hex digits" in done.output and "not a key" not in done.output


# -- migrations -----------------------------------------------------------------------------


def test_an_older_ledger_upgrades_itself_and_keeps_its_rows(run, ledger_url):
    engine = create_engine(normalise_url(ledger_url))
    with engine.begin() as conn:
        upgrade(conn, 0, 1)  # a ledger as version 1 of the schema made it
        conn.execute(s.meta.insert().values(name="key_fingerprint", value=the_key().fingerprint))
    engine.dispose()
    with Ledger.open(ledger_url, the_key(), migrate=False) if False else _version_of(ledger_url) as version:
        assert version == 1
    done = run("check", SAMPLE_837, "--minutes", SAMPLE_MINUTES, "-q", "--ledger", ledger_url)
    assert done.exit_code == 1
    with Ledger.open(ledger_url, the_key()) as ledger:
        assert ledger.schema_version == s.SCHEMA_VERSION
    assert run("match", SAMPLE_835, "--minutes", SAMPLE_MINUTES, "--ledger", ledger_url).exit_code == 0
    assert counts(ledger_url)["claims"] == 6 and counts(ledger_url)["matches"] == 16


class _version_of:
    def __init__(self, url):
        self.engine = create_engine(normalise_url(url))

    def __enter__(self):
        with self.engine.connect() as conn:
            return int(conn.execute(select(s.meta.c.value).where(s.meta.c.name == "schema_version")).scalar_one())

    def __exit__(self, *exc):
        self.engine.dispose()


def test_a_newer_ledger_is_refused_with_a_clear_message(run, ledger_url):
    assert run("check", SAMPLE_837, "-q", "--ledger", ledger_url).exit_code == 1
    engine = create_engine(normalise_url(ledger_url))
    with engine.begin() as conn:
        conn.execute(update(s.meta).where(s.meta.c.name == "schema_version").values(value=str(s.SCHEMA_VERSION + 1)))
    engine.dispose()
    done = run("check", SAMPLE_837, "-q", "--ledger", ledger_url)
    assert done.exit_code == 2
    assert f"version {s.SCHEMA_VERSION + 1}, written by a newer edi-rehab" in done.output and "upgrade edi-rehab" in done.output


def test_migrations_are_numbered_one_step_at_a_time():
    assert [version for version, _what, _step in s.MIGRATIONS] == list(range(1, s.SCHEMA_VERSION + 1))


def test_a_fresh_ledger_has_every_table(ledger_url):
    with Ledger.open(ledger_url, the_key()) as ledger:
        with ledger.connection() as conn:
            from sqlalchemy import inspect

            names = set(inspect(conn).get_table_names())
    assert {table.name for table in s.metadata.sorted_tables} <= names


def test_rekey_rotates_the_key_and_the_history_still_joins(run, ledger_url, tmp_path, monkeypatch, files):
    from edi_rehab.ledger.keys import parse_key_file
    from test_ledger_history import FIRST, resent

    key_file = tmp_path / "rotating.key"
    key_file.write_text(KEY_LINE)
    monkeypatch.setenv("EDI_REHAB_LEDGER_KEY_FILE", str(key_file))
    run("check", files("first.x12", FIRST.data), "--ledger", ledger_url, "-q")
    before = {r["patient_hash"] for r in rows(ledger_url, s.claims)}
    done = run("rekey", "--ledger", ledger_url, "--key-file", str(key_file))
    assert done.exit_code == 0, done.output
    chain = parse_key_file(key_file.read_text(), "k")
    assert len(chain.keys) == 2 and key_file.stat().st_mode & 0o077 == 0
    after = {r["patient_hash"] for r in rows(ledger_url, s.claims)}
    assert after.isdisjoint(before) and len(after) == len(before)
    # the old key alone is refused; the new chain finds the earlier lines (L701 still fires)
    old = tmp_path / "old.key"
    old.write_text(KEY_LINE)
    monkeypatch.setenv("EDI_REHAB_LEDGER_KEY_FILE", str(old))
    assert run("check", SAMPLE_837, "-q", "--ledger", ledger_url).exit_code == 2
    monkeypatch.setenv("EDI_REHAB_LEDGER_KEY_FILE", str(key_file))
    second = run("check", files("second.x12", resent(FIRST.data)), "--ledger", ledger_url, "--format", "json")
    assert "L701" in second.output
