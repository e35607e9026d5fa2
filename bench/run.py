"""Benchmarks, side by side with pyx12 in one run. Not a test: it prints a table.

    python bench/run.py                 # 10 MB and 200 MB generated 837P files
    python bench/run.py --small         # 2 MB and 20 MB, for a quick look

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
    parser.add_argument("--worker", nargs=2, metavar=("NAME", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker_main(*args.worker)
        return
    sizes = (2, 20) if args.small else (10, 200)
    small, large = (make_file(size) for size in sizes)
    print(f"# edi-rehab benchmarks, {date.today()} on {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print()
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
