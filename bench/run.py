"""Benchmarks, side by side with pyx12 in one run. Not a test: it prints a table.

    python bench/run.py                 # 10 MB and 200 MB generated 837P files
    python bench/run.py --small         # 2 MB and 20 MB, for a quick look
    python bench/run.py --cli-only      # only the command line as a process, on every file shape

Two views of the same work. The API jobs time ``check_events`` and friends inside a child
whose imports are already done. The CLI jobs time what a clearinghouse hook pays: one
``edi-rehab check FILE --format json`` process per file, start-up included, beside one
fresh ``python`` process that imports pyx12 and iterates ``X12Reader`` over the same file,
on file shapes the API bench does not use (CRLF, no line breaks, one claim per transaction
set, defect-heavy, a 5-claim file).

Every measurement runs in its own child process, so each one's peak memory is that child's
``ru_maxrss`` and one job's garbage cannot slow the next. Files are generated once into
``bench/out/`` (git-ignored) by ``edi_rehab.synth``, streamed so that making a 200 MB file
does not hold it in memory. Quote the ratios: absolute times drift on shared machines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
CHUNK = 1 << 20


# -- workers: each runs in a child process and prints one JSON line ---------------------------
def _chunks(path: str):
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def work_pyx12_iterate(path: str) -> dict:
    import pyx12.x12file

    segments = 0
    with open(path, encoding="ascii") as handle:
        for _ in pyx12.x12file.X12Reader(handle):
            segments += 1
    return {"segments": segments}


def work_split_floor(path: str) -> dict:
    """The practical floor for pure Python: split on the terminator, touch each segment."""
    data = Path(path).read_bytes()
    terminator = data[105:106]
    segments = 0
    for segment in data.split(terminator):
        if segment[:3] == b"SV1":
            segments += 1
    return {"sv1": segments}


def work_read(path: str) -> dict:
    from edi_rehab.x12 import iter_events

    events = sum(1 for _ in iter_events(_chunks(path)))
    return {"events": events}


def work_read_views(path: str) -> dict:
    from edi_rehab.claims import iter_claims
    from edi_rehab.gcpause import each_with_collector_paused
    from edi_rehab.x12 import Transaction, iter_events

    def views(event) -> tuple[int, int]:
        # As check and show do: the claims of one transaction at a time, collector paused.
        if not isinstance(event, Transaction):
            return 0, 0
        claims = lines = 0
        for claim in iter_claims(event):
            claims += 1
            lines += len(claim.lines)
        return claims, lines

    totals = [0, 0]
    for claims, lines in each_with_collector_paused(views, iter_events(_chunks(path))):
        totals[0] += claims
        totals[1] += lines
    return {"claims": totals[0], "lines": totals[1]}


def work_check(path: str) -> dict:
    """As ``edi-rehab check`` runs in one process: findings only, no claim views kept."""
    from edi_rehab.engine import CheckOptions, check_events  # type: ignore[attr-defined]
    from edi_rehab.x12 import iter_events

    findings = 0
    for _event, found in check_events(iter_events(_chunks(path)), CheckOptions(), claim_views=False):
        findings += len(found)
    return {"findings": findings}


def work_fix(path: str) -> dict:
    """``edi-rehab fix --unsafe-fixes`` without the file write: every output byte is produced."""
    from edi_rehab.engine import Checker
    from edi_rehab.fixes import Fixer, FixOptions
    from edi_rehab.x12 import iter_events

    fixer = Fixer(Checker(), FixOptions(unsafe=True))
    written = sum(len(fixed.data) for fixed in fixer.fix_events(iter_events(_chunks(path))))
    report = fixer.finish()
    return {"applied": len(report.applied), "remaining": len(report.remaining), "bytes": written}


WORKERS = {
    "pyx12-iterate": work_pyx12_iterate,
    "split-floor": work_split_floor,
    "read": work_read,
    "read+views": work_read_views,
    "check": work_check,
    "fix": work_fix,
}


def _worker_main(name: str, path: str) -> None:
    # Imports stay out of the timing, for pyx12 and for us alike.
    if name in ("pyx12-iterate", "split-floor"):
        import pyx12.x12file  # noqa: F401
    else:
        import edi_rehab.claims  # noqa: F401
        import edi_rehab.engine  # noqa: F401
    started = time.perf_counter()
    result = WORKERS[name](path)
    result["seconds"] = time.perf_counter() - started
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


# -- the parent ----------------------------------------------------------------------------------
def run_child(name: str, path: Path) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", name, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1] if completed.stderr else "failed"}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def make_file(megabytes: int) -> Path:
    from edi_rehab.synth import SynthSpec, iter_837p_chunks

    path = OUT / f"synth-837p-{megabytes}mb.x12"
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    spec = SynthSpec(seed=megabytes, claims=10_000_000, lines_per_claim=(2, 6), dates_per_claim=(1, 2),
                     disciplines=("PT", "OT"), line_break="\n")
    temp = path.with_suffix(".tmp")
    with open(temp, "wb") as handle:
        for chunk in iter_837p_chunks(spec, target_bytes=megabytes * 1_000_000):
            handle.write(chunk)
    os.replace(temp, path)
    return path


# -- the command line as a process --------------------------------------------------------------
#: (name, megabytes, SynthSpec changes). Sizes stay near 5 MB so pyx12 finishes in seconds.
CLI_SHAPES: tuple[tuple[str, float, dict], ...] = (
    ("lf-tx2000", 5, {"line_break": "\n", "claims_per_transaction": 2000}),
    ("crlf-tx5000", 5, {"line_break": "\r\n"}),
    ("nobreak-tx5000", 5, {"line_break": ""}),
    ("lf-tx1", 5, {"line_break": "\n", "claims_per_transaction": 1}),
    ("lf-tx5000-defects", 5, {"line_break": "\n", "defect_rate": 0.15}),
    ("lf-1line-claims", 5, {"line_break": "\n", "lines_per_claim": (1, 1), "claims_per_transaction": 500}),
    ("crlf-5-claims", 0, {"line_break": "\r\n", "claims": 5}),
)

PYX12_ITERATE = (
    "import sys, pyx12.x12file\n"
    "n = 0\n"
    "with open(sys.argv[1], encoding='ascii') as handle:\n"
    "    for _ in pyx12.x12file.X12Reader(handle):\n"
    "        n += 1\n"
)


def make_shape(name: str, megabytes: float, changes: dict) -> Path:
    from edi_rehab.synth import SynthSpec, generate_837p, iter_837p_chunks

    path = OUT / f"cli-{name}.x12"
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    base = {"seed": 7, "claims": 10_000_000, "lines_per_claim": (2, 6), "dates_per_claim": (1, 2),
            "disciplines": ("PT", "OT"), "filing_indicators": ("MB", "CI")}
    spec = SynthSpec(**{**base, **changes})
    temp = path.with_suffix(".tmp")
    with open(temp, "wb") as handle:
        if megabytes:
            for chunk in iter_837p_chunks(spec, target_bytes=int(megabytes * 1_000_000)):
                handle.write(chunk)
        else:
            handle.write(generate_837p(spec).data)
    os.replace(temp, path)
    return path


def edi_rehab_command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m edi_rehab.cli``."""
    script = Path(sys.executable).with_name("edi-rehab")
    return [str(script)] if script.exists() else [sys.executable, "-m", "edi_rehab.cli"]


class ProcessTime(NamedTuple):
    """One child process: wall seconds, peak RSS in MB, exit code, CPU seconds (user + system)."""

    seconds: float
    maxrss_mb: float
    exit_code: int
    cpu_seconds: float


def time_process(command: list[str]) -> ProcessTime:
    """How long ``command`` took as a process (:class:`ProcessTime`), output discarded."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return ProcessTime(seconds, usage.ru_maxrss / 1024, child.returncode, usage.ru_utime + usage.ru_stime)


def count_claims(path: Path) -> int:
    data = path.read_bytes()
    element = data[3:4]
    terminator = data[105:106]
    return data.count(terminator + b"CLM" + element) + data.count(terminator + b"\nCLM" + element) + data.count(
        terminator + b"\r\nCLM" + element)


def cli_table(repeats: int) -> dict[str, float]:
    """``edi-rehab check FILE --format json`` as a process against pyx12 as a process, alternately."""
    ours = edi_rehab_command()
    print("## The command line as a process, start-up included, alternating with pyx12 in one run")
    print()
    print(f"`{' '.join(Path(ours[0]).name if i == 0 else a for i, a in enumerate(ours))} check FILE --format json` "
          f"against `python -c 'iterate pyx12 X12Reader' FILE`; best of {repeats}, by wall clock and by CPU time "
          "(user + system, which another process's load disturbs less).")
    print()
    process_seconds: dict[str, float] = {}
    print("| shape | MB | claims | pyx12 s | check s | check MB/s | claims/s | × pyx12 | pyx12 CPU s | check CPU s "
          "| × pyx12 CPU | check peak RSS MB | exit |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, megabytes, changes in CLI_SHAPES:
        path = make_shape(name, megabytes, changes)
        size_mb = path.stat().st_size / 1e6
        claims = count_claims(path)
        pyx12_best = check_best = pyx12_cpu = check_cpu = float("inf")
        check_rss, check_exit = 0.0, 0
        for _ in range(repeats):  # alternate so that load on the machine hits both alike
            theirs = time_process([sys.executable, "-c", PYX12_ITERATE, str(path)])
            pyx12_best, pyx12_cpu = min(pyx12_best, theirs.seconds), min(pyx12_cpu, theirs.cpu_seconds)
            run = time_process([*ours, "check", str(path), "--format", "json"])
            check_best, check_cpu = min(check_best, run.seconds), min(check_cpu, run.cpu_seconds)
            check_rss, check_exit = max(check_rss, run.maxrss_mb), run.exit_code
        print(f"| {name} | {size_mb:.2f} | {claims:,} | {pyx12_best:.2f} | {check_best:.3f} | {size_mb / check_best:.1f} | "
              f"{claims / check_best:,.0f} | {pyx12_best / check_best:.1f}× | {pyx12_cpu:.2f} | {check_cpu:.3f} | "
              f"{pyx12_cpu / check_cpu:.1f}× | {check_rss:.0f} | {check_exit} |")
        process_seconds[name] = check_best
    print()
    startup_table(repeats * 3)
    validate_table(repeats)
    return process_seconds


def stage_table(process_seconds: dict[str, float], repeats: int) -> None:
    """Where a check process's time goes, per shape: start-up (the 5-claim process), reading,
    claim views, rules, and what is left (output, the CLI's own work, the collector)."""
    startup = process_seconds["crlf-5-claims"]
    print("Where the check process's time goes (seconds; API jobs best of "
          f"{repeats} in their own processes, imports outside their timing):")
    print()
    print("| shape | process | start-up | read | views | rules | rest (output, CLI) |")
    print("|---|---|---|---|---|---|---|")
    for name, megabytes, changes in CLI_SHAPES:
        if not megabytes:
            continue
        path = make_shape(name, megabytes, changes)
        read, views, check = (best_of(job, path, repeats)["seconds"] for job in ("read", "read+views", "check"))
        total = process_seconds[name]
        print(f"| {name} | {total:.3f} | {startup:.3f} | {read:.3f} | {views - read:.3f} | {check - views:.3f} | "
              f"{total - startup - check:.3f} |")
    print()


PYX12_VALIDATE = (
    "import io, sys, pyx12.params, pyx12.x12n_document\n"
    "with open(sys.argv[1], encoding='ascii') as handle:\n"
    "    pyx12.x12n_document.x12n_document(pyx12.params.params(), handle, io.StringIO(), None, None, io.StringIO())\n"
)


def validate_table(repeats: int) -> None:
    """``edi-rehab validate`` against pyx12 validating the same many-interchange file, alternately.

    The issue's case: a file of ~300 small interchanges, where loading pyx12's maps per
    interchange once cost 40× pyx12's own time. Both sides validate every interchange and
    write a 999 (pyx12 in memory, ours to a file beside the input)."""
    from edi_rehab.synth import SynthSpec, generate_837p

    path = OUT / "cli-validate-300-interchanges.x12"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        spec = SynthSpec(seed=3, claims=300, claims_per_transaction=1, interchanges=300, line_break="\n")
        path.write_bytes(generate_837p(spec).data)
    ours = edi_rehab_command()
    ack = OUT / "cli-validate.999"
    pyx12_best = ours_best = float("inf")
    for _ in range(repeats):
        pyx12_best = min(pyx12_best, time_process([sys.executable, "-c", PYX12_VALIDATE, str(path)])[0])
        ours_best = min(ours_best, time_process([*ours, "validate", str(path), "--format", "json", "--ack", str(ack)])[0])
    interchanges = path.read_bytes().count(b"ISA")
    print(f"validate, {interchanges} interchanges in {path.stat().st_size / 1000:.0f} KB, best of {repeats}, alternately:")
    print()
    print("| job | seconds | × pyx12's time |")
    print("|---|---|---|")
    print(f"| pyx12 x12n_document, whole file | {pyx12_best:.2f} | 1.00× |")
    print(f"| edi-rehab validate FILE --format json --ack ACK | {ours_best:.2f} | {ours_best / pyx12_best:.2f}× |")
    print()


def startup_table(repeats: int) -> None:
    """Start-up against the floor the issue names: ``python -c "import click, lxml.etree"``."""
    ours = edi_rehab_command()
    name, megabytes, changes = next(shape for shape in CLI_SHAPES if shape[0] == "crlf-5-claims")
    small = make_shape(name, megabytes, changes)
    commands = {
        'python -c "import click, lxml.etree"': [sys.executable, "-c", "import click, lxml.etree"],
        "edi-rehab --help": [*ours, "--help"],
        "edi-rehab rule U101": [*ours, "rule", "U101"],
        "edi-rehab check 5-claim file --format json": [*ours, "check", str(small), "--format", "json"],
    }
    best = dict.fromkeys(commands, float("inf"))
    for _ in range(repeats):
        for label, command in commands.items():
            best[label] = min(best[label], time_process(command)[0])
    floor = best['python -c "import click, lxml.etree"']
    print(f"Start-up, best of {repeats}, run alternately:")
    print()
    print("| command | ms | × import click, lxml.etree |")
    print("|---|---|---|")
    for label, seconds in best.items():
        print(f"| {label} | {seconds * 1000:.0f} | {seconds / floor:.2f}× |")
    print()


def best_of(name: str, path: Path, repeats: int) -> dict:
    runs = [run_child(name, path) for _ in range(repeats)]
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    best = min(good, key=lambda r: r["seconds"])
    best["maxrss_mb"] = max(r["maxrss_mb"] for r in good)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="2 MB and 20 MB instead of 10 MB and 200 MB")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cli-only", action="store_true", help="only the command-line timings")
    parser.add_argument("--worker", nargs=2, metavar=("NAME", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker_main(*args.worker)
        return
    print(f"# edi-rehab benchmarks, {date.today()} on {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print()
    process_seconds = cli_table(args.repeats)
    stage_table(process_seconds, args.repeats)
    if args.cli_only:
        return
    sizes = (2, 20) if args.small else (10, 200)
    small, large = (make_file(size) for size in sizes)
    print(f"## {small.name} ({small.stat().st_size / 1e6:.1f} MB): speed against pyx12 X12Reader, same run")
    print()
    print("| job | seconds | MB/s | × pyx12 X12Reader | peak RSS MB |")
    print("|---|---|---|---|---|")
    baseline = best_of("pyx12-iterate", small, args.repeats)
    size_mb = small.stat().st_size / 1e6
    for name in ("pyx12-iterate", "split-floor", "read", "read+views", "check", "fix"):
        result = baseline if name == "pyx12-iterate" else best_of(name, small, args.repeats)
        if "error" in result:
            print(f"| {name} | failed: {result['error']} | | | |")
            continue
        ratio = baseline["seconds"] / result["seconds"]
        print(f"| {name} | {result['seconds']:.2f} | {size_mb / result['seconds']:.1f} | {ratio:.1f}× | {result['maxrss_mb']:.0f} |")
    print()
    print(f"## {large.name} ({large.stat().st_size / 1e6:.0f} MB): streaming memory")
    print()
    print("| job | seconds | MB/s | peak RSS MB |")
    print("|---|---|---|---|")
    size_mb = large.stat().st_size / 1e6
    for name in ("read+views", "check", "fix"):
        result = run_child(name, large)
        if "error" in result:
            print(f"| {name} | failed: {result['error']} | | |")
            continue
        print(f"| {name} | {result['seconds']:.1f} | {size_mb / result['seconds']:.1f} | {result['maxrss_mb']:.0f} |")


if __name__ == "__main__":
    main()
