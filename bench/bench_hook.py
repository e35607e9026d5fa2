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

Check runs as the hook does (``check --quiet --format json``). Each run also reports its CPU
time (the command's own process and its workers apart), and a second table gives the CPU
split and the speed-up bounds it sets on two cores. Run it with ``.pyc`` files
(``env -u PYTHONDONTWRITEBYTECODE``): without them every run compiles the package first.

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
from dataclasses import dataclass
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


#: The command line as a hook runs it, plus a report of its CPU time on stderr at exit: its
#: own (``RUSAGE_SELF``) and that of its worker processes, which the pool has joined by then
#: (``RUSAGE_CHILDREN``). Forked workers leave by ``os._exit`` and so report nothing. It enters
#: where the ``edi-rehab`` console script enters (``cli.program.run``, which installs the cached
#: dataclass methods before the command's modules are imported); ``cli.main`` alone compiles
#: them on every run, start-up the hook does not pay (callgrind, check on the 5-claim file:
#: 559 M instructions through ``cli.main``, 360 M through ``program.run`` and the console
#: script alike). ``-c`` puts the working folder first on ``sys.path``, where the console
#: script has its own folder: dropped, so the source tree is never imported instead of the
#: installed package and the folder the bench is started from does not enter the start-up.
CLI_WITH_CPU = """
import sys
del sys.path[0]
import atexit, os, resource

def report_cpu():
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    os.write(2, f"\\nbench-cpu {own.ru_utime + own.ru_stime:.4f} {workers.ru_utime + workers.ru_stime:.4f}\\n".encode())

atexit.register(report_cpu)
sys.argv[0] = "edi-rehab"
from edi_rehab.cli.program import run
run()
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    stdout: bytes
    code: int
    #: CPU seconds of the command's own process and of its workers together
    parent_cpu: float
    workers_cpu: float


def run_cli(args: list[str]) -> Run:
    command = [sys.executable, "-c", CLI_WITH_CPU, *args]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if b"Traceback" in completed.stderr:  # python exits 1 on one, which looks like "findings"
        raise SystemExit(f"{' '.join(args)} failed:\n{completed.stderr.decode(errors='replace')}")
    report = completed.stderr.rsplit(b"bench-cpu ", 1)[-1].split()
    return Run(seconds, completed.stdout, completed.returncode, float(report[0]), float(report[1]))


@dataclass
class Comparison:
    """Best of the alternating runs: wall seconds, and each CPU figure on its own (CPU time
    moves less with the load than wall time)."""

    label: str
    size_mb: float
    wall: dict[int, float]
    parent_cpu: dict[int, float]
    workers_cpu: dict[int, float]
    same: bool

    def row(self) -> str:
        best = self.wall
        speedup = best[1] / best[2]
        return (
            f"| {self.label} | {self.size_mb:.1f} | {best[1]:.2f} | {best[2]:.2f} | {speedup:.2f}× "
            f"| {self.size_mb / best[1]:.2f} → {self.size_mb / best[2]:.2f} | {'yes' if self.same else 'NO'} |"
        )

    def cpu_row(self) -> str:
        """CPU split and the bounds it sets on two cores. ``--jobs 1`` runs in one process
        (C1); with ``--jobs 2`` the main process (P) reads, plans, renders, and the workers
        (W, both together) check. Parent as serial: C1 / (P + W/2), the bound when nothing
        the parent does overlaps a worker. Cores shared: C1 / max(P, (P + W) / 2), the
        bound when it all overlaps (three processes on two cores)."""
        c1 = self.parent_cpu[1] + self.workers_cpu[1]
        p, w = self.parent_cpu[2], self.workers_cpu[2]
        serial = c1 / (p + w / 2)
        shared = c1 / max(p, (p + w) / 2)
        return f"| {self.label} | {c1:.2f} | {p:.2f} | {w:.2f} | {p + w:.2f} | {serial:.2f}× | {shared:.2f}× |"


def compare(label: str, args: list[str], size_mb: float, repeats: int) -> Comparison:
    wall = {1: float("inf"), 2: float("inf")}
    parent = dict(wall)
    workers = dict(wall)
    outputs = {}
    for _ in range(repeats):
        for jobs in (1, 2):
            run = run_cli([*args, "--jobs", str(jobs)])
            if run.code not in (0, 1):
                raise SystemExit(f"{label} --jobs {jobs} exited {run.code}")
            wall[jobs] = min(wall[jobs], run.seconds)
            parent[jobs] = min(parent[jobs], run.parent_cpu)
            workers[jobs] = min(workers[jobs], run.workers_cpu)
            outputs[jobs] = run.stdout
    return Comparison(label, size_mb, wall, parent, workers, outputs[1] == outputs[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="5 MB check, 0.5 MB validate")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--check-only", action="store_true", help="only check, not validate (pyx12 is slow)")
    options = parser.parse_args()
    check_mb, validate_mb = (5, 0.5) if options.small else (20, 2)
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
    comparisons = []

    def measure(label: str, path: Path, args: list[str]) -> None:
        comparison = compare(f"{label} {path.name}", [*args, str(path)], path.stat().st_size / 1e6, options.repeats)
        comparisons.append(comparison)
        print(comparison.row(), flush=True)

    measure("check", check_file, ["check", "--quiet", "--format", "json"])
    if not options.check_only:
        measure("validate", validate_file, ["validate", "--quiet"])
        measure("check --validate", validate_file, ["check", "--quiet", "--validate"])
    print()
    print("CPU seconds (best of the runs each): C1 is `--jobs 1`; P the main process and W the two")
    print("workers together with `--jobs 2`. Bounds on two cores: C1 / (P + W/2) if the parent's")
    print("work were serial, C1 / max(P, (P + W)/2) if it all overlapped.")
    print()
    print("| command | C1 | P | W | P + W | bound, parent serial | bound, cores shared |")
    print("|---|---|---|---|---|---|---|")
    for comparison in comparisons:
        print(comparison.cpu_row())


if __name__ == "__main__":
    main()
