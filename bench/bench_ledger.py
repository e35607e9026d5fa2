"""The hook with a claim ledger against without one, in claims per second, on SQLite and
PostgreSQL, measured in one run.

    python bench/bench_ledger.py                    # 2,000-claim files, best of 3
    python bench/bench_ledger.py --claims 5000 --repeats 5
    python bench/bench_ledger.py --postgres postgresql://postgres@127.0.0.1:5432/test

Not a test: it prints a Markdown table (copied into ``bench/README.md``). Each run is the
real command line (``check FILE -q``) in a child process, timed from the outside; the three
kinds of run (no ledger, SQLite, PostgreSQL) alternate so that a busy machine slows all
alike, and each figure is the best of ``--repeats``. Every ledger run records a file the
ledger has not seen (each repeat checks a copy that differs in ISA13), so it measures the
full recording, not the idempotent skip; PostgreSQL runs write into a schema made for the run
and dropped after it.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

CLI = [sys.executable, "-c", "import sys; from edi_rehab.cli import main; sys.exit(main())"]


def timed(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run([*CLI, *args], env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    options = parser.parse_args()

    from edi_rehab.synth import generate_837p

    synth = generate_837p(claims=options.claims, seed=14, defect_rate=0.05, claims_per_transaction=1000)
    folder = Path(tempfile.mkdtemp(prefix="edi-ledger-bench-"))
    (folder / "ledger.key").write_text("3c" * 32 + "\n")
    env = {**os.environ, "EDI_REHAB_LEDGER_KEY_FILE": str(folder / "ledger.key"), "XDG_CACHE_HOME": str(folder / "cache")}
    schema = f"edi_bench_{secrets.token_hex(4)}"
    pg = None
    try:
        import psycopg

        pg = psycopg.connect(options.postgres, autocommit=True, connect_timeout=5)
        pg.execute(f'CREATE SCHEMA "{schema}"')
    except Exception as error:  # no server: the table says so
        print(f"PostgreSQL not measured: {error}", file=sys.stderr)
        pg = None
    sep = "&" if "?" in options.postgres else "?"
    kinds = {"no ledger": None, "SQLite": f"sqlite:///{folder / 'ledger.sqlite3'}"}
    if pg is not None:
        kinds["PostgreSQL"] = f"{options.postgres}{sep}options={quote(f'-csearch_path={schema}')}"
    best = {kind: float("inf") for kind in kinds}
    try:
        timed(["check", "--sample", "-q"], env)  # the compiled maps are cached before timing
        for repeat in range(options.repeats):
            for kind, url in kinds.items():
                path = folder / f"claims-{kind.replace(' ', '-')}-{repeat}.x12"
                path.write_bytes(synth.data.replace(b"*000000001*", f"*{repeat + 2:09d}*".encode(), 1))
                args = ["check", str(path), "-q"] + (["--ledger", url] if url else [])
                best[kind] = min(best[kind], timed(args, env))
    finally:
        if pg is not None:
            pg.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            pg.close()
    print(f"{options.claims} claims ({len(synth.data) / 1e6:.1f} MB), best of {options.repeats}, "
          f"{platform.machine()}, Python {platform.python_version()}\n")
    print("| run | seconds | claims/s | vs no ledger |")
    print("|---|---:|---:|---:|")
    base = best["no ledger"]
    for kind, seconds in best.items():
        print(f"| {kind} | {seconds:.2f} | {options.claims / seconds:,.0f} | {seconds / base:.2f}x |")


if __name__ == "__main__":
    main()
