"""Minutes-CSV memory benchmark: a 1,000,000-row export against a small and a large 837P.

    python bench/bench_minutes.py              # 1,000,000 rows; 10 and 50,000 claims
    python bench/bench_minutes.py --rows 200000 --large 10000

Not a test: it prints a table. An EMR's export holds every visit of a period, while a claim
file holds one batch, so most rows name claims the file does not have. For each shape,
``edi_rehab.synth`` writes an 837P (``PCN000001``...) and a CSV of its claims' minutes rows
padded with rows of other claims (``EMR0000001``..., three lines each) to the row count.
Files are written once into ``bench/out/minutes/`` (git-ignored).

Each job is one ``edi-rehab check FILE --minutes CSV --format json`` process, its output
discarded; peak memory is that process's ``ru_maxrss`` (from ``wait4``). The baseline is the
same check without ``--minutes``. Jobs run alternately, best of ``--repeats``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "minutes"
PROCEDURES = ("97110", "97140", "97530")


def make_claims(claims: int) -> tuple[Path, str]:
    """The 837P of ``claims`` claims and its own minutes rows (CSV text without header)."""
    from edi_rehab.synth import SynthSpec, generate_837p

    path = OUT / f"claims-{claims}.x12"
    rows_path = OUT / f"claims-{claims}.rows.csv"
    if not path.exists() or not rows_path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        generated = generate_837p(SynthSpec(seed=11, claims=claims, line_break="\n", claims_per_transaction=5000))
        rows = generated.minutes_csv().split("\n", 1)[1]
        path.with_suffix(".tmp").write_bytes(generated.data)
        os.replace(path.with_suffix(".tmp"), path)
        rows_path.write_text(rows)
    return path, rows_path.read_text()


def make_export(claims: int, rows_wanted: int) -> tuple[Path, Path, int]:
    """(837P, minutes CSV, rows of the CSV naming the 837P's claims)."""
    claim_file, own_rows = make_claims(claims)
    csv_path = OUT / f"export-{claims}-{rows_wanted}.csv"
    referenced = own_rows.count("\n")
    if not csv_path.exists():
        temp = csv_path.with_suffix(".tmp")
        with open(temp, "w", newline="") as handle:
            handle.write("claim_id,line,minutes,procedure,service_date,time_block\n")
            handle.write(own_rows)
            written = referenced
            number = 0
            while written < rows_wanted:
                number += 1
                for line in range(1, 4):
                    if written == rows_wanted:
                        break
                    day = 5 + number % 20
                    handle.write(
                        f"EMR{number:07d},{line},{20 + (number + line) % 30},{PROCEDURES[line - 1]},"
                        f"202601{day:02d},{8 + line:02d}00-{8 + line:02d}45\n"
                    )
                    written += 1
        os.replace(temp, csv_path)
    return claim_file, csv_path, referenced


def edi_rehab_command() -> list[str]:
    script = Path(sys.executable).with_name("edi-rehab")
    return [str(script)] if script.exists() else [sys.executable, "-m", "edi_rehab.cli"]


def run(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of one process, output discarded."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10, help="claims in the small 837P")
    parser.add_argument("--large", type=int, default=50_000, help="claims in the large 837P")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    command = edi_rehab_command()
    print(f"edi-rehab check FILE --minutes CSV --format json; {args.rows:,} CSV rows; best of {args.repeats}\n")
    print("| 837P claims | rows naming them | job | seconds | peak RSS MB | exit |")
    print("|---|---|---|---|---|---|")
    for claims in (args.small, args.large):
        claim_file, csv_path, referenced = make_export(claims, args.rows)
        jobs = {
            "without --minutes": [*command, "check", str(claim_file), "--format", "json", "--quiet"],
            "--minutes": [*command, "check", str(claim_file), "--minutes", str(csv_path), "--format", "json", "--quiet"],
        }
        best: dict[str, tuple[float, float, int]] = {}
        for _ in range(args.repeats):
            for name, job in jobs.items():  # alternately, so load drifts hit both
                seconds, peak, code = run(job)
                old = best.get(name)
                best[name] = (min(seconds, old[0]) if old else seconds, min(peak, old[1]) if old else peak, code)
        for name, (seconds, peak, code) in best.items():
            print(f"| {claims:,} | {referenced:,} | {name} | {seconds:.2f} | {peak:.0f} | {code} |")


if __name__ == "__main__":
    main()
