"""``edi-rehab spark check`` against ``check --jobs 2`` and ``--jobs 1``, in one run (issue 15).

    python bench/bench_spark.py                      # 50 files, 200 MB; growth at 50/100/200 MB
    python bench/bench_spark.py --files 10 --mb 40   # scaled down for a loaded machine

Not a test: it prints Markdown tables (copied into ``bench/README.md``). Every run is the
real command line in a child process timed from the outside, so Spark's own start (the JVM,
the Python workers) is included; the Spark job runs with ``--master local[2]`` and writes
Parquet, the single-machine runs write ``--format json`` to /dev/null. The three ways
alternate on the full set, so a busy machine slows them alike. Then the Spark job alone on
a quarter, a half and all of the files (how time grows with input) and with 2, 4 and 8
partitions. Files are generated once into ``bench/out/spark/`` (git-ignored): transaction
sets of 500 claims, several per file, so each file splits.
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


def timed(args: list[str]) -> float:
    """Wall seconds of one child process; the 1-minute load average at its start is kept in
    ``LOADS`` so the printed tables say how busy the machine was."""
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    LOADS.append(os.getloadavg()[0])
    start = time.perf_counter()
    done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{args[:3]} failed ({done.returncode}): {done.stderr[-400:]}")
    return elapsed


def spark_run(paths: list[str], partitions: int | None = None) -> float:
    out = OUT / "tables"
    shutil.rmtree(out, ignore_errors=True)
    extra = ["--partitions", str(partitions)] if partitions else []
    return timed([CLI, "spark", "check", *paths, "--out", str(out), "--master", "local[2]", *extra])


def jobs_run(paths: list[str], jobs: int) -> float:
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
    best: dict[str, float] = {}
    for _ in range(options.repeats):
        for name, run in (("spark local[2]", lambda: spark_run(paths)), ("--jobs 2", lambda: jobs_run(paths, 2)),
                          ("--jobs 1", lambda: jobs_run(paths, 1))):
            seconds = run()
            best[name] = min(best.get(name, seconds), seconds)
    task_rate, plain_rate = per_core_rate(paths[0])
    print(f"per-core rate (CPU time, one file in this process): task {task_rate:.1f} MB/s, plain check {plain_rate:.1f} MB/s "
          f"({plain_rate / task_rate:.2f}x)\n")
    print(f"{len(paths)} files, {size:.1f} MB; best of {options.repeats}, run alternately\n")
    print("| run | s | MB/s | × --jobs 1 |\n|---|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.1f} | {size / seconds:.1f} | {best['--jobs 1'] / seconds:.2f}× |")
    print("\nSpark job as the input grows (the files' first quarter, half, all)\n")
    print("| files | MB | s | MB/s |\n|---|---|---|---|")
    for part in (4, 2, 1):
        chosen = paths[: max(1, len(paths) // part)]
        megabytes = sum(os.path.getsize(p) for p in chosen) / 1e6
        seconds = spark_run(chosen)
        print(f"| {len(chosen)} | {megabytes:.1f} | {seconds:.1f} | {megabytes / seconds:.1f} |")
    print("\nSpark job on all files by partitions\n")
    print("| partitions | s |\n|---|---|")
    for partitions in (2, 4, 8, 16):
        print(f"| {partitions} | {spark_run(paths, partitions):.1f} |")
    print(f"\n1-minute load average at the start of each run: {min(LOADS):.2f} to {max(LOADS):.2f} "
          f"(mean {sum(LOADS) / len(LOADS):.2f}, {len(LOADS)} runs, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
