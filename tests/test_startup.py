"""What a process imports before it does any work: a hook starts one process per file, so
start-up is most of what a small file costs (issue 13). These tests pin the imports, which do
not drift with the machine's load the way timings do."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("edi_rehab.engine", "edi_rehab.fixes", "edi_rehab.match", "edi_rehab.validate", "lxml", "pyx12")


def modules_after(*args: str, env: dict | None = None) -> set[str]:
    """The modules a fresh interpreter holds after running ``edi-rehab ARGS``."""
    code = (
        "import json, sys\n"
        "from edi_rehab.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_help_lists_the_commands_without_importing_any():
    # The summaries --help shows live in the command table, so no command module loads.
    loaded = modules_after("--help")
    assert not [name for name in loaded if name.startswith(HEAVY)]
    assert sorted(name for name in loaded if name.startswith("edi_rehab")) == ["edi_rehab", "edi_rehab.cli"]


def test_help_shows_every_command_and_each_command_exists():
    from click.testing import CliRunner

    from edi_rehab.cli import COMMANDS, main

    shown = CliRunner().invoke(main, ["--help"]).output
    for name, (_module, _function, summary) in COMMANDS.items():
        assert f"  {name} " in shown and summary in shown
        command = main.get_command(None, name)
        assert command is not None and command.name == name


def test_a_single_process_check_imports_no_worker_pool_or_toml(tmp_path):
    # A hook's run (one small file, --jobs 1, no --config, the compiled maps cached by an
    # earlier run) needs none of these.
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    modules_after("check", "--sample", env=env)
    loaded = modules_after("check", "--sample", "--format", "json", env=env)
    assert {"concurrent.futures", "tomllib", "tempfile", "difflib"}.isdisjoint(loaded)
    # nor the progress bar: tqdm is imported only once a bar is drawn on a terminal
    assert not [name for name in loaded if name == "tqdm" or name.startswith("tqdm.")]
    # nor the ack numbering: no 999 is written without --validate
    assert {"edi_rehab.control_numbers", "edi_rehab.cli.control_state", "platformdirs", "jinja2"}.isdisjoint(loaded)
    # nor the claim ledger's database layer: no --ledger, no config naming one; nor the CLI's
    # ledger module (--ledger is declared in cli/options.py)
    assert not [name for name in loaded if name.startswith(("sqlalchemy", "psycopg", "edi_rehab.ledger", "pygal"))]
    assert "edi_rehab.cli.ledger" not in loaded
    # nor hashlib (OpenSSL): the maps' key is their bytes, compared. (pathlib is
    # not pinned here: an editable install's import hook loads it; a regular install's
    # check does not, bench/README.md.)
    assert {"hashlib", "_hashlib"}.isdisjoint(loaded)


def test_rule_doc_imports_the_rules_but_not_the_engine_or_pyx12():
    loaded = modules_after("rule", "U101")
    assert "edi_rehab.rules.registry" in loaded
    assert not [name for name in loaded if name.startswith(("edi_rehab.engine", "edi_rehab.fixes", "pyx12"))]
    assert "edi_rehab.cli.check" not in loaded and "edi_rehab.cli.fix" not in loaded
    # a check rule's doc needs neither the 835 reader (R501 is match's) nor the ledger's
    # (L701), nor the suggestions for an unknown code
    assert not [name for name in loaded if name.startswith(("edi_rehab.match", "edi_rehab.remits", "edi_rehab.ledger"))]
    assert {"difflib", "hashlib"}.isdisjoint(loaded)


def test_the_package_still_exports_its_api():
    import edi_rehab

    assert set(edi_rehab.__all__) == set(edi_rehab._PUBLIC) | {"__version__"}
    for name in edi_rehab._PUBLIC:
        assert getattr(edi_rehab, name) is not None


def test_the_console_script_compiles_no_dataclass_method_on_a_warm_run(tmp_path):
    # Compiling the methods of the ~55 dataclasses on the check path was ~20 ms of a 5-claim
    # check; the console script keeps them compiled (edi_rehab/dataclass_code.py). --help
    # creates no dataclass, so it neither reads the table nor imports dataclasses.
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    probe = (
        "import atexit, json, sys\n"
        "sys.argv = ['edi-rehab', *sys.argv[1:]]\n"
        "def report():\n"
        "    # run() may end the process without returning (cli/program.py): look from atexit\n"
        "    loaded = 'dataclasses' in sys.modules\n"
        "    import dataclasses\n"
        "    table = getattr(getattr(dataclasses, 'exec', None), '__self__', None)\n"
        "    sys.stderr.write(json.dumps([table is not None and table.added, loaded]))\n"
        "atexit.register(report)\n"
        "from edi_rehab.cli.program import run\n"
        "run()\n"
    )

    def added_and_loaded(*args: str) -> list:
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env)
        return json.loads(done.stderr.strip().splitlines()[-1])

    cold_added, _ = added_and_loaded("check", "--sample", "--format", "json")
    assert cold_added > 50
    assert added_and_loaded("check", "--sample", "--format", "json") == [0, True]
    assert added_and_loaded("--help") == [False, False]


# -- the console script ends check and rule without the interpreter's teardown ------------------
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")
CONSOLE_SCRIPT = "import sys; sys.argv = ['edi-rehab', *sys.argv[1:]]; from edi_rehab.cli.program import run; run()"
THROUGH_MAIN = "import sys; sys.argv = ['edi-rehab', *sys.argv[1:]]; from edi_rehab.cli import main; main()"


def finished(code: str, *args: str, env: dict) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    return done.returncode, done.stdout, done.stderr


def test_the_console_script_exits_as_main_does(tmp_path):
    # ended early by program.run, a command prints and exits exactly as it does through main
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    defects = os.path.join(FIXTURES, "every-defect-837p.x12")
    for args in (
        ("check", defects, "--format", "json"),
        ("check", defects),  # text, with the summary on stdout
        ("check", defects, "--jobs", "2", "--format", "jsonl"),
        ("check", os.path.join(FIXTURES, "sample-835.x12")),  # exit 2, a message on stderr
        ("check", str(tmp_path / "missing.x12")),
        ("check", "--format", "yaml", defects),  # a usage error, from click
        ("rule", "U101"),
        ("rule", "NOPE"),
        ("rules",),
    ):
        through_main = finished(THROUGH_MAIN, *args, env=env)
        assert finished(CONSOLE_SCRIPT, *args, env=env) == through_main, args
        assert "Traceback" not in through_main[2]


def test_the_console_script_still_ends_quietly_on_a_closed_pipe(tmp_path):
    big = tmp_path / "big.x12"
    with open(os.path.join(FIXTURES, "every-defect-837p.x12"), "rb") as handle:
        big.write_bytes(handle.read() * 60)  # far more output than a pipe holds
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    for extra in ((), ("--jobs", "2")):
        process = subprocess.Popen([sys.executable, "-c", CONSOLE_SCRIPT, "check", str(big), *extra],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) == 1  # cut short: not a pass
        assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


def test_the_teardown_is_kept_whenever_it_could_matter():
    import threading

    from edi_rehab.cli.program import end_without_teardown

    # each of these returns, leaving the exit to the interpreter (calling it with an exit
    # status and nothing running would end this test process)
    assert end_without_teardown("a message to print") is None
    assert end_without_teardown(True) is None
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        assert end_without_teardown(0) is None
    finally:
        release.set()
        worker.join()


def test_the_console_script_pauses_the_collector_only_while_a_command_starts_up(tmp_path):
    # gcpause.pause_for_start_up / end_of_start_up: off while check imports and builds its
    # checker, back on (with what start-up made frozen) before the first input is read
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    probe = (
        "import atexit, gc, json, sys\n"
        "sys.argv = ['edi-rehab', *sys.argv[1:]]\n"
        "import edi_rehab.batch as batch\n"
        "seen = []\n"
        "plan = batch.plan_input\n"
        "def spy(*args, **kwargs):\n"
        "    seen.append([gc.isenabled(), gc.get_freeze_count() > 0])\n"
        "    return plan(*args, **kwargs)\n"
        "batch.plan_input = spy\n"
        "atexit.register(lambda: sys.stderr.write(json.dumps([seen, gc.isenabled()])))\n"
        "from edi_rehab.cli.program import run\n"
        "run()\n"
    )
    defects = os.path.join(FIXTURES, "every-defect-837p.x12")
    for args, expected in (
        (("check", defects, "--format", "json"), [[[True, True]], True]),
        (("rule", "U101"), [[], True]),
    ):
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env)
        assert json.loads(done.stderr.strip().splitlines()[-1]) == expected, done.stderr


def test_a_program_calling_main_keeps_its_collector_as_it_was():
    import gc

    from click.testing import CliRunner

    from edi_rehab.cli import main

    frozen = gc.get_freeze_count()
    result = CliRunner().invoke(main, ["check", os.path.join(FIXTURES, "sample-837p.x12")])
    assert result.exit_code == 1, result.output
    assert gc.isenabled() and gc.get_freeze_count() == frozen
