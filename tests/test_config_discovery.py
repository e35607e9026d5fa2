"""The configuration found from the working directory, as ruff finds its own: an
edi-rehab.toml or a pyproject.toml's [tool.edi-rehab], nearest folder first, never above a
repository's root; --config wins and --isolated reads none."""

from __future__ import annotations

import pytest

from claimkit import claim, ln, x12

WARNING = x12(claim(ln("97140:GP", 1), ln("97530:GP:59", 1)))  # M205, a warning by default
AS_ERROR = '[severity]\nM205 = "error"\n'
IGNORED = 'ignore = ["M205"]\n'


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A repository folder (it has .git) with a nested work folder the test runs in."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    work = root / "claims" / "today"
    work.mkdir(parents=True)
    (work / "warn.x12").write_bytes(WARNING)
    monkeypatch.chdir(work)
    return root, work


def severity_of_m205(result) -> str:
    line = next(line for line in result.stdout.splitlines() if " M205 " in line)
    return line.split()[1]


def test_no_config_anywhere_keeps_the_shipped_severity(run, project):
    result = run("check", "-v", "warn.x12")
    assert result.exit_code == 0 and severity_of_m205(result) == "warning"
    assert "config: none (no edi-rehab.toml or pyproject.toml with [tool.edi-rehab]" in result.stderr


def test_an_edi_rehab_toml_above_the_working_directory_is_found(run, project):
    root, work = project
    (root / "edi-rehab.toml").write_text(AS_ERROR)
    result = run("check", "-v", "warn.x12")
    assert result.exit_code == 1 and severity_of_m205(result) == "error"
    assert f"config: {root / 'edi-rehab.toml'} (found from {work})" in result.stderr


def test_a_pyproject_table_is_read(run, project):
    root, _ = project
    (root / "pyproject.toml").write_text(f'[project]\nname = "billing"\n\n[tool.edi-rehab]\n{AS_ERROR}'.replace("[severity]", "[tool.edi-rehab.severity]"))
    result = run("check", "-v", "warn.x12")
    assert result.exit_code == 1 and severity_of_m205(result) == "error"
    assert f"config: {root / 'pyproject.toml'} [tool.edi-rehab] (found" in result.stderr
    # the workers of --jobs read the same table of the same file
    assert run("check", "--jobs", "2", "warn.x12").stdout == result.stdout


def test_in_one_folder_edi_rehab_toml_wins_over_pyproject(run, project):
    root, _ = project
    (root / "edi-rehab.toml").write_text(AS_ERROR)
    (root / "pyproject.toml").write_text(f"[tool.edi-rehab]\n{IGNORED}")
    result = run("check", "-v", "warn.x12")
    assert severity_of_m205(result) == "error" and "edi-rehab.toml (found" in result.stderr


def test_the_nearest_folder_wins(run, project):
    root, work = project
    (root / "edi-rehab.toml").write_text(AS_ERROR)
    (work.parent / "pyproject.toml").write_text(f"[tool.edi-rehab]\n{IGNORED}")
    result = run("check", "warn.x12")
    assert result.exit_code == 0 and " M205 " not in result.stdout


def test_a_pyproject_without_the_table_is_passed_over(run, project):
    root, work = project
    (root / "edi-rehab.toml").write_text(AS_ERROR)
    (work / "pyproject.toml").write_text('[project]\nname = "billing"\n\n[tool.ruff]\nline-length = 100\n')
    result = run("check", "-v", "warn.x12")
    assert severity_of_m205(result) == "error" and f"{root / 'edi-rehab.toml'} (found" in result.stderr


def test_the_search_stops_at_the_repository_root(run, project, tmp_path):
    (tmp_path / "edi-rehab.toml").write_text(AS_ERROR)  # above the folder that holds .git
    result = run("check", "warn.x12")
    assert result.exit_code == 0 and severity_of_m205(result) == "warning"


def test_a_git_file_marks_a_root_too(run, tmp_path, monkeypatch):
    # a worktree or a submodule has a .git file, not a folder
    (tmp_path / "edi-rehab.toml").write_text(AS_ERROR)
    work = tmp_path / "worktree"
    work.mkdir()
    (work / ".git").write_text("gitdir: /elsewhere\n")
    (work / "warn.x12").write_bytes(WARNING)
    monkeypatch.chdir(work)
    assert severity_of_m205(run("check", "warn.x12")) == "warning"


@pytest.mark.parametrize(
    "name, text",
    [
        ("edi-rehab.toml", "select = [\n"),
        ("pyproject.toml", "[tool.edi-rehab]\nselect = [\n"),
    ],
)
def test_a_malformed_found_file_exits_2_naming_it(run, project, name, text):
    root, _ = project
    (root / name).write_text(text)
    result = run("check", "warn.x12")
    assert result.exit_code == 2 and str(root / name) in result.stderr and "invalid TOML" in result.stderr
    assert result.stdout == ""


def test_a_bad_key_in_the_pyproject_table_names_the_table(run, project):
    root, _ = project
    (root / "pyproject.toml").write_text("[tool.edi-rehab]\nselekt = ['U']\n")
    result = run("check", "warn.x12")
    assert result.exit_code == 2
    assert f"{root / 'pyproject.toml'} [tool.edi-rehab]: unknown key 'selekt'" in result.stderr and "'select'" in result.stderr


def test_a_malformed_pyproject_that_names_no_table_of_ours_is_not_read(run, project):
    # It cannot hold [tool.edi-rehab] (the key is not in its text), so it is not parsed:
    # another tool's broken file does not stop our hook.
    root, _ = project
    (root / "pyproject.toml").write_text("[tool.black\n")
    assert run("check", "warn.x12").exit_code == 0


def test_config_option_wins_over_a_found_file(run, project):
    root, work = project
    (root / "edi-rehab.toml").write_text(AS_ERROR)
    (work / "mine.toml").write_text(IGNORED)
    result = run("check", "-v", "--config", "mine.toml", "warn.x12")
    assert result.exit_code == 0 and " M205 " not in result.stdout
    assert "config: mine.toml (--config)" in result.stderr


def test_isolated_reads_no_config_and_refuses_config(run, project):
    root, work = project
    (root / "edi-rehab.toml").write_text(AS_ERROR)
    result = run("check", "-v", "--isolated", "warn.x12")
    assert result.exit_code == 0 and severity_of_m205(result) == "warning"
    assert "config: none (--isolated)" in result.stderr
    (work / "mine.toml").write_text(IGNORED)
    both = run("check", "--isolated", "--config", "mine.toml", "warn.x12")
    assert both.exit_code == 2 and "--isolated" in both.output and "--config" in both.output


def test_fix_reads_the_found_config_too(run, project):
    root, work = project
    (root / "edi-rehab.toml").write_text(IGNORED)
    result = run("fix", "warn.x12", "-o", str(work / "out.x12"))
    assert "Applied 0 fixes (0 safe, 0 unsafe). No findings remain." in result.output
    fixed = run("fix", "--isolated", "warn.x12", "-o", str(work / "out2.x12"))
    assert "Applied 1 fix (1 safe, 0 unsafe)" in fixed.output
