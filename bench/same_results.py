"""Prove a speed change changed no result: SHA-256 of check's JSON and of fix's bytes, per file.

    python bench/same_results.py record before.json    # on the code before the change
    python bench/same_results.py compare before.json   # on the code after; exit 1 on any difference

Files: the 837P and 835 fixtures, the public samples in /work/shared/samples/x12 when present
(read in place, never copied), a generated defect-heavy 837P and the CLI shapes of
``bench/run.py`` (all in ``bench/out/``, git-ignored, made once by ``edi_rehab.synth`` with
fixed seeds). For each file it runs the installed
command line in a child process: ``check FILE --format json`` (stdout and exit code) and
``fix FILE --unsafe-fixes -o OUT`` (the bytes written, or "no output", and the exit code).
The JSON is hashed as printed, so a change of order or of any finding's text shows.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SAMPLES = Path("/work/shared/samples/x12")


def defect_heavy_file() -> Path:
    from edi_rehab.synth import SynthSpec, iter_837p_chunks

    path = OUT / "same-results-defects-2mb.x12"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        spec = SynthSpec(seed=11, claims=10_000_000, lines_per_claim=(1, 6), dates_per_claim=(1, 2),
                         disciplines=("PT", "OT", "SLP"), filing_indicators=("MB", "CI"),
                         line_break="\n", defect_rate=0.2, claims_per_transaction=400)
        temp = path.with_suffix(".tmp")
        with open(temp, "wb") as handle:
            for chunk in iter_837p_chunks(spec, target_bytes=2_000_000):
                handle.write(chunk)
        temp.replace(path)
    return path


def files() -> list[Path]:
    found = sorted(p for p in (ROOT / "fixtures").iterdir() if p.suffix == ".x12")
    if SAMPLES.is_dir():
        found += sorted(p for p in SAMPLES.iterdir() if p.is_file())
    found.append(defect_heavy_file())
    sys.path.insert(0, str(HERE))
    from run import CLI_SHAPES, make_shape

    found += [make_shape(*shape) for shape in CLI_SHAPES]
    return found


def command() -> list[str]:
    script = Path(sys.executable).with_name("edi-rehab")
    return [str(script)] if script.exists() else [sys.executable, "-m", "edi_rehab.cli"]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def results_for(path: Path) -> dict[str, str]:
    ours = command()
    check = subprocess.run([*ours, "check", str(path), "--format", "json"], capture_output=True, check=False)
    with tempfile.TemporaryDirectory() as folder:
        fixed = Path(folder) / "fixed.x12"
        fix = subprocess.run([*ours, "fix", str(path), "--unsafe-fixes", "-o", str(fixed)],
                             capture_output=True, check=False)
        fixed_digest = digest(fixed.read_bytes()) if fixed.exists() else "no output"
    return {
        "check": f"{digest(check.stdout)} exit {check.returncode}",
        "fix": f"{fixed_digest} exit {fix.returncode}",
    }


def key(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("record", "compare"):
        print(__doc__)
        return 2
    mode, record = sys.argv[1], Path(sys.argv[2])
    now = {key(path): results_for(path) for path in files()}
    if mode == "record":
        record.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(now)} files in {record}")
        return 0
    before = json.loads(record.read_text())
    differ = [name for name in sorted(set(before) | set(now)) if before.get(name) != now.get(name)]
    for name in differ:
        print(f"DIFFERENT {name}: before {before.get(name)} now {now.get(name)}")
    print(f"{len(now) - len(differ)} of {len(now)} files identical (check JSON and fix bytes)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
