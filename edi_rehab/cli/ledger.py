"""``--ledger``: which ledger a run records to, its patient key, and recording each file.

The URL comes from ``--ledger URL``, else the config's ``ledger``; ``--ledger`` alone is
``sqlite:///<user data folder>/ledger.sqlite3`` (``EDI_REHAB_DATA_DIR`` names another folder).
The patient key is read from the config's ``ledger_key_file``, else
``$EDI_REHAB_LEDGER_KEY_FILE``, else ``ledger.key`` in the user data folder, made (32 random
bytes, readable by the user only) on first use. Every problem is exit 2 with a message: a
ledger asked for and not reachable is never skipped silently.

Imported only by a run that asks for a ledger, so check's start-up is unchanged without one
(the option itself is declared in ``options.py``, with the others commands share).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from .files import InputProblem, read_text
from .options import DEFAULT_LEDGER
from .output import EXIT_UNREADABLE, fail

#: the rules that count the patient's year: with a ledger they start from its year-to-date
YEARLY_CODES = ("C413", "C414")


def data_dir() -> Path:
    override = os.environ.get("EDI_REHAB_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("edi-rehab", appauthor=False))


def ledger_url_for(option: str | None, config) -> str | None:
    """The ledger URL a run records to, or None when none was asked for."""
    url = option if option is not None else getattr(config, "ledger", None)
    if url is None:
        return None
    if url == DEFAULT_LEDGER:
        folder = data_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / "ledger.sqlite3"
        try:  # made private before SQLite makes it with the umask's mode
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError as error:
            raise InputProblem(f"{path}: cannot make the default ledger: {error.strerror or error}") from None
        return f"sqlite:///{path}"
    if "://" not in url:
        raise InputProblem(
            f"--ledger {url!r}: not a ledger URL (sqlite:///PATH or postgresql://...); "
            "to use the default ledger give --ledger after the files or as --ledger=default"
        )
    return url


def _key_text(config) -> tuple[str, str]:
    path = getattr(config, "ledger_key_file", None) or os.environ.get("EDI_REHAB_LEDGER_KEY_FILE")
    if path:
        return read_text(path), path
    folder = data_dir()
    path = folder / "ledger.key"
    if not path.exists():
        from ..ledger.keys import new_key_line

        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another run made it a moment ago
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write("# edi-rehab ledger patient key: keep it secret, back it up with the ledger\n")
                handle.write(new_key_line())
    return read_text(str(path)), str(path)


def open_ledger(option: str | None, config):
    """The open :class:`~edi_rehab.ledger.store.Ledger`, or None when none was asked for.
    Exits 2 with a message on any problem."""
    try:
        url = ledger_url_for(option, config)
        if url is None:
            return None
        try:
            from ..ledger.keys import LedgerKeyError, parse_key_file
            from ..ledger.store import Ledger, LedgerError
        except ImportError:
            raise InputProblem("--ledger needs SQLAlchemy: pip install 'edi-rehab[ledger]' ('edi-rehab[postgres]' for PostgreSQL)") from None
        text, source = _key_text(config)
        try:
            key = parse_key_file(text, source)
            return Ledger.open(url, key)
        except (LedgerKeyError, LedgerError) as problem:
            raise InputProblem(str(problem)) from None
    except InputProblem as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)


def stop(problem: Exception) -> None:
    """A ledger write failed mid-run: the file being recorded left no trace (one
    transaction), and the run stops with exit 2."""
    fail(f"{problem}; the run stopped (files recorded before this one are kept)")
    sys.exit(EXIT_UNREADABLE)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_findings(checker, data: bytes) -> list:
    """check's findings on an 837P file in memory (the file was read once already)."""
    from ..x12.document import iter_events

    return [f for result in checker.check_events(iter_events([data]), claim_views=False) for f in result.findings]


def record_claims(ledger, name: str, data: bytes, command: str, findings, *, decisions=None, fixed=(), facts=None) -> int:
    """Record an 837P file (``facts``: its claims already read, without findings); returns
    its ledger id. Exits 2 when the ledger fails."""
    from ..ledger.facts import claim_file_facts, place_findings
    from ..ledger.store import LedgerError
    from ..x12 import X12ReadError

    findings = [f for f in findings if f.segment >= 1]  # a minutes-CSV finding is about the CSV, not this file
    try:
        if facts is None:
            facts = claim_file_facts(data, ledger.key, findings, fixed=fixed, decisions=decisions)
        else:
            place_findings(facts, findings, fixed)
        return ledger.record_claim_file(
            name=name, sha256=sha256(data), size=len(data), command=command, facts=facts, decisions=decisions, fixed=fixed
        ).file_id
    except LedgerError as problem:
        stop(problem)
    except X12ReadError as error:
        stop(InputProblem(f"{name}: changed while it was read ({error}); not recorded"))
    raise AssertionError("unreachable")


class CheckRecorder:
    """``check --ledger``: records each 837P input once its findings are all in.

    Sits on check's result stream (:meth:`tap`), so the findings are those check printed,
    whatever the format or ``--jobs``; an unreadable input or one without an 837P is not
    recorded. Standard input is read into memory first, since it is read twice (checked,
    then recorded).
    """

    def __init__(self, ledger, checker, inputs: list) -> None:
        self.ledger = ledger
        self.checker = checker
        self.inputs = inputs

    @classmethod
    def start(cls, option: str | None, checker, inputs: list) -> CheckRecorder:
        import dataclasses

        from .files import read_all

        ledger = open_ledger(option, checker.config)
        held = []
        for inp in inputs:
            if inp.data is None and inp.path == "-":
                try:
                    data = read_all("-")
                except InputProblem as problem:
                    fail(str(problem))
                    sys.exit(EXIT_UNREADABLE)
                inp = dataclasses.replace(inp, data=data, size=len(data))
            held.append(inp)
        return cls(ledger, checker, held)

    def tap(self, stream):
        """Pass check's results through, adding the findings the history gives (L701) and
        replacing C413/C414, which the engine computed from a year-to-date of 0, with the
        same rules run from the patient's recorded year-to-date."""
        from ..batch import Findings

        yearly = tuple(code for code in YEARLY_CODES if self.checker.config.is_enabled(code))
        held: dict[int, list] = {}
        claim_alone: dict[int, list] = {}
        for event in stream:
            if isinstance(event, Findings):
                if yearly:
                    alone = [f for f in event.findings if f.code in yearly]
                    if alone:
                        claim_alone.setdefault(event.index, []).extend(alone)
                        event = Findings(event.index, tuple(f for f in event.findings if f.code not in yearly))
                if event.findings:
                    held.setdefault(event.index, []).extend(event.findings)
                    yield event
                continue
            findings = held.pop(event.index, [])
            alone = claim_alone.pop(event.index, [])
            if event.error is None and event.professional:
                inp = self.inputs[event.index]
                data = b"".join(inp.chunks())
                facts, added = self.history(data, yearly)
                for finding in alone:  # superseded by the year-to-date run of the same rules
                    event.counts[finding.severity.value] -= 1
                if added:
                    for finding in added:
                        event.counts[finding.severity.value] += 1
                    yield Findings(event.index, tuple(added))
                record_claims(self.ledger, inp.name, data, "check", [*findings, *added], facts=facts)
            elif alone:
                yield Findings(event.index, tuple(alone))
            yield event

    def history(self, data: bytes, yearly: tuple[str, ...] = ()):
        """The file's claims as the ledger records them, and the findings the earlier files
        give: L701 (when selected) and the ``yearly`` rules (C413, C414) from each claim's
        recorded year-to-date."""
        from ..findings import Severity
        from ..ledger.facts import claim_file_facts
        from ..ledger.history import DUPLICATE, duplicate_findings, earlier_lines
        from ..ledger.store import LedgerError
        from ..x12 import X12ReadError

        config = self.checker.config
        found = []
        try:
            facts = claim_file_facts(data, self.ledger.key)
            before = self.ledger.file_id(sha256(data))
            if config.is_enabled(DUPLICATE):
                patients = {item.claim["patient_hash"] for item in facts.claims}
                earlier = self.ledger.query(lambda conn: earlier_lines(conn, patients, before))
                severity = Severity(config.severity_for(DUPLICATE, Severity.ERROR.value))
                found.extend(duplicate_findings(facts, earlier, severity))
            if yearly:
                found.extend(self.yearly_findings(data, before, yearly))
        except LedgerError as problem:
            stop(problem)
        except X12ReadError as error:
            stop(InputProblem(f"changed while it was read ({error}); not recorded"))
        return facts, found

    def yearly_findings(self, data: bytes, this_file: int | None, yearly: tuple[str, ...]) -> list:
        """C413/C414 on each claim of a Medicare-threshold payer, counting the patient's
        recorded year-to-date first: every recorded file but this one (a re-run counts
        nothing twice), each recorded claim once, never the claims this claim stands for."""
        from ..claims import read_claims
        from ..ledger.history import claim_year_to_date, recorded_lines, superseded_claims
        from ..x12.document import iter_events
        from ..x12.stream import Transaction

        checker, key = self.checker, self.ledger.key
        claims = [
            (claim, key.patient(*claim.patient_key))
            for event in iter_events([data])
            if isinstance(event, Transaction) and event.set_id == "837" and event.version.startswith("005010X222")
            for claim in read_claims(event)
            if checker.profile_for(claim).therapy_threshold
        ]
        if not claims:
            return []
        patients = {patient for _claim, patient in claims}
        lines = self.ledger.query(lambda conn: recorded_lines(conn, patients, excluding_file=this_file))
        gone = superseded_claims(lines)
        by_patient: dict[str, list] = {}
        for line in lines:
            by_patient.setdefault(line.patient_hash, []).append(line)
        found = []
        for claim, patient in claims:
            known = claim_year_to_date(
                by_patient.get(patient, ()), patient, claim.claim_id, service_span(claim), claim.payer_claim_number,
                superseded=gone,
            )
            found.extend(checker.claim_findings_with_history(claim, known, yearly))
        return found


def service_span(claim):
    """The first and last dates of service of a claim's lines (None: no line is dated)."""
    days = [d for line in claim.lines if line.service_date is not None
            for d in (line.service_date.start, line.service_date.end or line.service_date.start) if d is not None]
    return (min(days), max(days)) if days else None


def claims_from_ledger(ledger, remits) -> tuple[list[tuple[str, bytes]], dict[str, int]]:
    """The recorded 837P files that hold a claim the 835 names, as (name, masked bytes) in
    the order they were recorded, and name -> ledger file id. A name recorded for several
    files is told apart by its ledger id."""
    from ..ledger.facts import unpack_document
    from ..ledger.store import LedgerError
    from ..match import MIN_PREFIXED_ID

    clp01s = [clp.claim_id for remit in remits for clp in remit.claims]
    try:
        documents = ledger.claim_documents(clp01s, MIN_PREFIXED_ID)
    except LedgerError as problem:
        stop(problem)
    counts: dict[str, int] = {}
    for _file_id, name, _blob in documents:
        counts[name] = counts.get(name, 0) + 1
    inputs, ids = [], {}
    for file_id, name, blob in documents:
        shown = name if counts[name] == 1 else f"{name} (ledger file {file_id})"
        inputs.append((shown, unpack_document(blob)))
        ids[shown] = file_id
    return inputs, ids


def record_remit(ledger, name: str, data: bytes, command: str, remits, result, claim_files: dict[str, int]) -> int:
    """Record an 835 file, its payments and what match made of them. Exits 2 when the ledger fails."""
    from ..ledger.facts import match_facts, remit_facts
    from ..ledger.store import LedgerError

    try:
        return ledger.record_remit_file(
            name=name, sha256=sha256(data), size=len(data), command=command,
            remits=remit_facts(remits), matches=match_facts(result.rows), claim_files=claim_files,
        ).file_id
    except LedgerError as problem:
        stop(problem)
    raise AssertionError("unreachable")
