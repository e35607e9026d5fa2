"""``edi-rehab spark check`` against ``check --jobs 2`` and ``--jobs 1``, in one run (issue 15).

    python bench/bench_spark.py                      # 50 files, 200 MB; growth at 50/100/200 MB
    python bench/bench_spark.py --files 10 --mb 40   # scaled down for a loaded machine

Not a test: it prints Markdown tables (copied into ``bench/README.md``). Every run is the
real command line in a child process timed from the outside, so Spark's own start (the JVM,
the Python workers) is included; the Spark job runs with ``--master local[2]`` and writes
Parquet, the single-machine runs write ``--format json`` to /dev/null. The three ways
alternate on the full set, so a busy machine slows them alike. Then the Spark job alone on
one file, a quarter, a half and all of the files (how time grows with input) and with 2, 4,
8 and 16 partitions. Where a cgroup v2 hierarchy is writable (root on most Linux machines)
each run also reports the CPU seconds of its whole process tree, the JVM and the Python
workers included, which the load moves far less than wall time: the growth of CPU seconds
with input is the per-core rate a cluster's executors would see, and the one-file run's is
the job's fixed cost. Files are generated once into ``bench/out/spark/`` (git-ignored):
transaction sets of 500 claims, several per file, so each file splits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "spark"
CLI = str(Path(sys.executable).with_name("edi-rehab"))


def make_files(count: int, megabytes: float) -> list[str]:
    from edi_rehab.synth import SynthSpec, iter_837p_chunks

    OUT.mkdir(parents=True, exist_ok=True)
    paths = []
    each = megabytes / count
    for n in range(count):
        path = OUT / f"lake-{count}x{each:g}mb-{n:03d}.x12"
        if not path.exists():
            spec = SynthSpec(seed=1000 + n, claims=10_000_000, claims_per_transaction=500, lines_per_claim=(2, 6),
                             disciplines=("PT", "OT"), filing_indicators=("MB", "CI"), defect_rate=0.01, line_break="\n")
            temp = path.with_suffix(".tmp")
            with open(temp, "wb") as handle:
                for chunk in iter_837p_chunks(spec, target_bytes=int(each * 1_000_000)):
                    handle.write(chunk)
            os.replace(temp, path)
        paths.append(str(path))
    return paths


LOADS: list[float] = []


def _cgroup_root() -> str | None:
    """A writable cgroup v2 hierarchy, or ``None``. A run's child goes into its own cgroup so
    the CPU time of everything it starts is counted: Spark's JVM is not waited for by the
    driver, so ``getrusage(RUSAGE_CHILDREN)`` would miss it."""
    try:
        with open("/proc/mounts") as mounts:
            for line in mounts:
                fields = line.split()
                if fields[2] == "cgroup2" and os.access(fields[1], os.W_OK):
                    return fields[1]
    except OSError:
        pass
    return None


CGROUP_ROOT = _cgroup_root()


class Run:
    """One child process: wall seconds, and CPU seconds of its whole process tree (``None``
    where no cgroup could be made)."""

    def __init__(self, wall: float, cpu: float | None) -> None:
        self.wall, self.cpu = wall, cpu

    def cpu_text(self) -> str:
        return "—" if self.cpu is None else f"{self.cpu:.1f}"


def timed(args: list[str]) -> Run:
    """Run one child process; the 1-minute load average at its start is kept in ``LOADS`` so
    the printed tables say how busy the machine was."""
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    group = None
    if CGROUP_ROOT is not None:
        group = os.path.join(CGROUP_ROOT, f"edi-rehab-bench-{os.getpid()}-{len(LOADS)}")
        os.mkdir(group)
    LOADS.append(os.getloadavg()[0])

    def enter_group() -> None:
        if group is not None:
            with open(os.path.join(group, "cgroup.procs"), "w") as procs:
                procs.write(str(os.getpid()))

    start = time.perf_counter()
    done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=enter_group)
    elapsed = time.perf_counter() - start
    cpu = None
    if group is not None:
        time.sleep(0.5)  # the JVM outlives the driver by a moment
        with open(os.path.join(group, "cpu.stat")) as stat:
            cpu = int(dict(line.split() for line in stat)["usage_usec"]) / 1e6
        try:
            os.rmdir(group)
        except OSError:  # something of the run still lives; its cgroup stays behind
            pass
    if done.returncode not in (0, 1):
        raise SystemExit(f"{args[:3]} failed ({done.returncode}): {done.stderr[-400:]}")
    return Run(elapsed, cpu)


def spark_run(paths: list[str], partitions: int | None = None) -> Run:
    out = OUT / "tables"
    shutil.rmtree(out, ignore_errors=True)
    extra = ["--partitions", str(partitions)] if partitions else []
    return timed([CLI, "spark", "check", *paths, "--out", str(out), "--master", "local[2]", *extra])


def jobs_run(paths: list[str], jobs: int) -> Run:
    return timed([CLI, "check", *paths, "--format", "json", "-q", "--jobs", str(jobs), "--exit-zero"])


def per_core_rate(path: str, repeats: int = 5) -> tuple[float, float]:
    """MB/s of CPU time of one Spark task (``check_whole``) and of a plain check
    (``claim_views=False``, as ``check`` runs) on one file in this process, best of ``repeats``."""
    from edi_rehab.batch import CheckRecipe
    from edi_rehab.spark.tasks import Source, check_whole
    from edi_rehab.x12.document import iter_events

    data = open(path, "rb").read()
    checker = CheckRecipe().build()
    best = {"task": float("inf"), "plain": float("inf")}
    for _ in range(repeats):
        start = time.process_time()
        check_whole(Source(0, path, path, len(data)), data, checker)
        best["task"] = min(best["task"], time.process_time() - start)
        start = time.process_time()
        for _result in checker.check_events(iter_events([data]), claim_views=False):
            pass
        best["plain"] = min(best["plain"], time.process_time() - start)
    return len(data) / 1e6 / best["task"], len(data) / 1e6 / best["plain"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--mb", type=float, default=200)
    parser.add_argument("--repeats", type=int, default=1)
    options = parser.parse_args()
    paths = make_files(options.files, options.mb)
    size = sum(os.path.getsize(p) for p in paths) / 1e6
    best: dict[str, Run] = {}
    for _ in range(options.repeats):
        for name, run in (("spark local[2]", lambda: spark_run(paths)), ("--jobs 2", lambda: jobs_run(paths, 2)),
                          ("--jobs 1", lambda: jobs_run(paths, 1))):
            result = run()
            if name not in best or result.wall < best[name].wall:
                best[name] = result
    task_rate, plain_rate = per_core_rate(paths[0])
    print(f"per-core rate (CPU time, one file in this process): task {task_rate:.1f} MB/s, plain check {plain_rate:.1f} MB/s "
          f"({plain_rate / task_rate:.2f}x)\n")
    print(f"{len(paths)} files, {size:.1f} MB; best of {options.repeats} by wall time, run alternately; CPU s is the whole "
          "process tree's (JVM and Python workers included)\n")
    print("| run | s | MB/s | × --jobs 1 | CPU s | MB per CPU s |\n|---|---|---|---|---|---|")
    for name, result in best.items():
        per_cpu = "—" if result.cpu is None else f"{size / result.cpu:.1f}"
        print(f"| {name} | {result.wall:.1f} | {size / result.wall:.1f} | {best['--jobs 1'].wall / result.wall:.2f}× | "
              f"{result.cpu_text()} | {per_cpu} |")
    print(f"\nSpark job as the input grows (one file, then the files' first quarter, half, all; best of {options.repeats})\n")
    print("| files | MB | s | MB/s | CPU s |\n|---|---|---|---|---|")
    for chosen in (paths[:1], paths[: max(1, len(paths) // 4)], paths[: max(1, len(paths) // 2)], paths):
        megabytes = sum(os.path.getsize(p) for p in chosen) / 1e6
        result = min((spark_run(chosen) for _ in range(options.repeats)), key=lambda r: r.wall)
        print(f"| {len(chosen)} | {megabytes:.1f} | {result.wall:.1f} | {megabytes / result.wall:.1f} | {result.cpu_text()} |")
    print("\nSpark job on all files by partitions\n")
    print("| partitions | s | CPU s |\n|---|---|---|")
    for partitions in (2, 4, 8, 16):
        result = spark_run(paths, partitions)
        print(f"| {partitions} | {result.wall:.1f} | {result.cpu_text()} |")
    print(f"\n1-minute load average at the start of each run: {min(LOADS):.2f} to {max(LOADS):.2f} "
          f"(mean {sum(LOADS) / len(LOADS):.2f}, {len(LOADS)} runs, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
