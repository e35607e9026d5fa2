"""Letters as a biller sees them: each letter kind's HTML rendered by headless Chromium
(Debian's ``chromium``), and the rendered page's text checked for the claim id, the appeal
level, the deadline, and the absence of rule codes and option names (issue 11).

``.ci/run`` installs Chromium and sets ``EDI_REHAB_REQUIRE_BROWSER=1``, so in CI a missing
browser fails this test instead of skipping it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from matchkit import C, L, P, S, claim_file, remit_file
from test_appeal import COMMERCIAL, DISTINCT, NCCI_MEDICARE, NCCI_REMIT, RULE_CODE, TOOL_WORDS, packets_for

from edi_rehab.minutes import parse_minutes_csv

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("EDI_REHAB_REQUIRE_BROWSER") != "1":
    pytest.skip("headless Chromium is not installed (apt-get install chromium)", allow_module_level=True)

#: The flags this machine's Chromium needs headless and offline (no sandbox as root, no
#: background connections that a closed network refuses).
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)


class _Body(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style", "head")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style", "head")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def rendered_text(html: str, folder) -> str:
    """The text of the page Chromium built from ``html`` (its DOM after rendering)."""
    assert CHROMIUM is not None, "EDI_REHAB_REQUIRE_BROWSER=1 but no chromium on PATH"
    page = folder / "letter.html"
    page.write_text(html, encoding="utf-8")
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={folder / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and "<body" in done.stdout, done.stderr[-2000:]
    body = _Body()
    body.feed(done.stdout)
    return " ".join(" ".join(body.parts).split())


def _letters():
    """One packet per letter kind: (name, packet, level words, deadline)."""
    units = parse_minutes_csv("claim_id,line,minutes\nPCN1,1,31\n", "m.csv")
    medicare_units = packets_for(
        remit_file([P("PCN1", [S("97110", charge="96", units="1", original_units="2", cas=[("CO", "151", "48")], ref6r="PCN1-1")])]),
        claim_file([C("PCN1", [L("97110", charge="96", units="2")])]),
        minutes=units,
    ).packets[0]
    commercial_units = packets_for(
        remit_file([P("PCN1", [S("97110", charge="96", units="1", original_units="2", cas=[("CO", "151", "48")], ref6r="PCN1-1")])]),
        claim_file([C("PCN1", [L("97110", charge="96", units="2")], **COMMERCIAL)]),
        minutes=units,
    ).packets[0]
    reopening = packets_for(
        remit_file(NCCI_REMIT), claim_file(NCCI_MEDICARE), minutes=parse_minutes_csv(DISTINCT, "minutes.csv")
    ).packets[0]
    return [
        ("medicare redetermination", medicare_units, "redetermination", "2026-06-16"),
        ("commercial first-level appeal", commercial_units, "first-level appeal", "2026-08-15"),
        ("medicare reopening", reopening, "reopening", "2027-02-16"),
    ]


@pytest.mark.slow
@pytest.mark.parametrize("case", range(3), ids=["redetermination", "commercial-appeal", "reopening"])
def test_each_letter_renders_in_chromium_and_reads_as_a_letter_to_the_payer(tmp_path, case):
    name, packet, level, deadline = _letters()[case]
    text = rendered_text(packet.letter_html, tmp_path)
    assert packet.claim_id in text, name
    assert level in text.lower(), name
    assert deadline in text, name
    scanned = re.sub(r"Remark [A-Z]{1,2}\d+", "Remark", text)
    assert not RULE_CODE.findall(scanned), (name, RULE_CODE.findall(scanned))
    assert "--" not in scanned, name
    lowered = scanned.lower()
    assert not [w for w in TOOL_WORDS if re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", lowered)], name


def test_appeal_pdf_letters_are_drawn_without_a_browser(tmp_path, monkeypatch):
    # Not a browser test: WeasyPrint draws the same HTML. The sample's packets each get one.
    pytest.importorskip("weasyprint")
    from click.testing import CliRunner

    from edi_rehab.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "packets"
    result = CliRunner().invoke(main, ["appeal", "--sample", "--pdf", "-o", str(out), "--date", "2026-03-02"])
    assert result.exit_code == 0, result.output
    pdfs = sorted(out.glob("*/letter.pdf"))
    assert pdfs and len(pdfs) == len(sorted(out.glob("*/letter.html")))
    for pdf in pdfs:
        data = pdf.read_bytes()
        # a complete PDF file of real content (its objects are compressed, so no text to grep)
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF") and len(data) > 5000


def test_pdf_without_weasyprint_is_a_usage_error_and_writes_nothing(tmp_path, monkeypatch):
    import builtins

    from click.testing import CliRunner

    from edi_rehab.cli import main

    real_import = builtins.__import__

    def no_weasyprint(name, *args, **kwargs):
        if name == "weasyprint":
            raise ImportError("No module named 'weasyprint'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "packets"
    result = CliRunner().invoke(main, ["appeal", "--sample", "--pdf", "-o", str(out)])
    assert result.exit_code == 2 and "pip install 'edi-rehab[pdf]'" in result.output
    assert not out.exists()
