"""The README is a user's first contact: its examples must stay true."""

import re
from pathlib import Path

from click.testing import CliRunner

from edi_rehab.cli import main
from edi_rehab.config import parse_config

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_config_example_parses():
    blocks = re.findall(r"```toml\n(.*?)```", README, flags=re.S)
    assert blocks, "the README shows a TOML configuration"
    for block in blocks:
        config = parse_config(block, "README.md")
        assert config.select and config.profiles


def test_every_command_in_the_table_exists():
    named = set(re.findall(r"^\| `edi-rehab (\w+)", README, flags=re.M))
    assert {"show", "check", "rules", "match", "appeal", "validate"} <= named
    for command in named:
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0, (command, result.output)
