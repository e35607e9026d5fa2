"""The clearinghouse hook's speed: ``--jobs 2`` against ``--jobs 1``, measured in one run.

    python bench/bench_hook.py            # check on 20 MB, validate on 2 MB
    python bench/bench_hook.py --small    # check on 5 MB, validate on 0.5 MB
    python bench/bench_hook.py --repeats 3
    python bench/bench_hook.py --check-only   # only check's --jobs 2 against --jobs 1

Not a test: it prints a Markdown table (copied into ``bench/README.md``). Each measurement
runs the real command line (``python -m edi_rehab.cli`` equivalent, through the console
entry) in a child process, timed from the outside; the jobs-1 and jobs-2 runs alternate so
that a busy machine slows both alike, and each figure is the best of ``--repeats``. The
outputs of both runs are compared and must be identical, so the speed-up is for the same
findings. Files are generated once into ``bench/out/`` (git-ignored) with transactions of
500 claims (check) and 100 claims (validation): a transaction set is the unit of splitting,
so a file that is one transaction of 5,000 claims gains nothing from ``--jobs``.

Measured 2026-11-27 (x86_64, 2 cores, Python 3.11.7, idle, ``--repeats 3``; the table with
notes is in ``bench/README.md``): check 20 MB 1.88 s -> 1.23 s (1.52x), validate 2 MB
11.91 s -> 6.75 s (1.76x), check --validate 2 MB 11.57 s -> 7.67 s (1.51x), same output.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def make_file(megabytes: float, claims_per_transaction: int) -> Path:
    from edi_rehab.synth import SynthSpec, iter_837p_chunks

    path = OUT / f"hook-837p-{megabytes:g}mb-tx{claims_per_transaction}.x12"
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    spec = SynthSpec(
        seed=int(megabytes * 10),
        claims=10_000_000,
        claims_per_transaction=claims_per_transaction,
        lines_per_claim=(2, 6),
        disciplines=("PT", "OT"),
        filing_indicators=("MB", "CI"),
        defect_rate=0.01,
        line_break="\n",
    )
    temp = path.with_suffix(".tmp")
    with open(temp, "wb") as handle:
        for chunk in iter_837p_chunks(spec, target_bytes=int(megabytes * 1_000_000)):
            handle.write(chunk)
    os.replace(temp, path)
    return path


def run_cli(args: list[str]) -> tuple[float, bytes, int]:
    command = [sys.executable, "-c", "from edi_rehab.cli import main; main()", *args]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, check=False)
    if b"Traceback" in completed.stderr:  # python exits 1 on one, which looks like "findings"
        raise SystemExit(f"{' '.join(args)} failed:\n{completed.stderr.decode(errors='replace')}")
    return time.perf_counter() - started, completed.stdout, completed.returncode


def compare(label: str, args: list[str], size_mb: float, repeats: int) -> str:
    best = {1: float("inf"), 2: float("inf")}
    outputs = {}
    for _ in range(repeats):
        for jobs in (1, 2):
            seconds, stdout, code = run_cli([*args, "--jobs", str(jobs)])
            if code not in (0, 1):
                raise SystemExit(f"{label} --jobs {jobs} exited {code}")
            best[jobs] = min(best[jobs], seconds)
            outputs[jobs] = stdout
    same = "yes" if outputs[1] == outputs[2] else "NO"
    speedup = best[1] / best[2]
    return (
        f"| {label} | {size_mb:.1f} | {best[1]:.2f} | {best[2]:.2f} | {speedup:.2f}× "
        f"| {size_mb / best[1]:.2f} → {size_mb / best[2]:.2f} | {same} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="5 MB check, 0.5 MB validate")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--check-only", action="store_true", help="only check, not validate (pyx12 is slow)")
    args = parser.parse_args()
    check_mb, validate_mb = (5, 0.5) if args.small else (20, 2)
    check_file = make_file(check_mb, 500)
    validate_file = make_file(validate_mb, 100)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"# edi-rehab hook benchmark, {date.today()} on {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {load:.2f} at start"
    )
    print()
    print("| command | MB | --jobs 1 s | --jobs 2 s | speed-up | MB/s | same output |")
    print("|---|---|---|---|---|---|---|")
    size = check_file.stat().st_size / 1e6
    print(compare(f"check {check_file.name}", ["check", "--quiet", str(check_file)], size, args.repeats), flush=True)
    if args.check_only:
        return
    size = validate_file.stat().st_size / 1e6
    print(compare(f"validate {validate_file.name}", ["validate", "--quiet", str(validate_file)], size, args.repeats), flush=True)
    print(compare(f"check --validate {validate_file.name}", ["check", "--quiet", "--validate", str(validate_file)], size, args.repeats), flush=True)


if __name__ == "__main__":
    main()
