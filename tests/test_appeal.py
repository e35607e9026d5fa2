"""appeal: packets (letters in Markdown and HTML, replacement claims), folder names, escaping."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import date
from html.parser import HTMLParser

import pytest

from edi_rehab.appeal import Block, Packets, build_packets, folder_name, index_json, md_escape, render_html, render_markdown
from edi_rehab.claims import read_claims
from edi_rehab.config import parse_config
from edi_rehab.minutes import parse_minutes_csv
from edi_rehab.x12 import parse
from matchkit import MAPS, C, L, P, S, claim_file, remit_file, run

PAID = [("CO", "45", "20"), ("PR", "2", "6")]

TODAY = date(2026, 3, 2)


def pyx12_valid(data: bytes) -> bool:
    import pyx12.params
    import pyx12.x12n_document

    return pyx12.x12n_document.x12n_document(
        pyx12.params.params(), io.StringIO(data.decode("latin-1")), fd_997=io.StringIO(), fd_html=io.StringIO(), fd_xmldoc=None
    )


def packets_for(remit, *claims, minutes=None, config=None, start=500):
    result = run(remit, *claims, minutes=minutes, config=config)
    packets = build_packets(result, MAPS, today=TODAY, control_start=start, practice=config.practice if config else None)
    for packet in packets.packets:
        assert_speaks_to_payer(packet)
    return packets


#: this project's rule codes (U101, N301, C403 ...); a RARC the payer sent is quoted as "Remark N20"
RULE_CODE = re.compile(r"\b[UMNCXR]\d{3}\b")
#: words of the tool and its user, not of a letter to a payer
TOOL_WORDS = (
    "edi-rehab", "the tool", "map", "minutes file", "check finds", "check found", "profile", "option",
    "corrected-claim", "new-claim", "reopening-correction", "bill-patient", "write-off", "draft",
    "before sending", "person sending", "- [ ]", "unknown carc", "unknown rarc", "clm01", "trn02", "ref*f8",
)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def letter_texts(packet):
    """The letter as a reader sees it: the HTML page's text, and the Markdown without its table rules."""
    page = _Text()
    page.feed(packet.letter_html.split("<body>", 1)[1])
    markdown = "\n".join(line for line in packet.letter_markdown.splitlines() if not re.fullmatch(r"\|(---\|)+", line))
    return " ".join(page.parts), markdown


def assert_speaks_to_payer(packet):
    """No rule code, option name, tool word or advice to the user in the letter: those go to the checklist."""
    for text in letter_texts(packet):
        scanned = re.sub(r"Remark [A-Z]{1,2}\d+", "Remark", text)
        assert not RULE_CODE.findall(scanned), (packet.claim_id, RULE_CODE.findall(scanned))
        assert "--" not in scanned, packet.claim_id
        lowered = scanned.lower()
        found = [w for w in TOOL_WORDS if re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", lowered)]
        assert not found, (packet.claim_id, found)


def read_back(data: bytes):
    doc = parse(data)
    assert doc.warnings == []
    (claim,) = read_claims(next(doc.transactions()))
    return doc, claim


#: a commercial payer (the default profile: corrections go as replacement claims)
COMMERCIAL = dict(filing="CI", payer_id="ACME1", payer_name="SYNTHETIC COMMERCIAL PPO")

NCCI_LINES = [L("97140", charge="47"), L("97530", charge="55"), L("97110", charge="48")]
NCCI_CLAIMS = [C("PCN1", NCCI_LINES, **COMMERCIAL)]
#: the same claim to Medicare Part B (SBR09 MB): corrections go as reopening requests
NCCI_MEDICARE = [C("PCN1", NCCI_LINES)]
NCCI_REMIT = [
    P(
        "PCN1",
        [
            S("97140", charge="47", cas=PAID, ref6r="PCN1-1"),
            S("97530", charge="55", cas=[("CO", "236", "55")], remarks=("N20",), ref6r="PCN1-2"),
            S("97110", charge="48", cas=PAID, ref6r="PCN1-3"),
        ],
        icn="SYNICN-FIRST",
    )
]
DISTINCT = "claim_id,line,minutes,time_block\nPCN1,1,15,0900-0915\nPCN1,2,15,0915-0930\nPCN1,3,15,0930-0945\n"


def test_co236_letter_names_the_cause_and_the_fix():
    (packet,) = packets_for(remit_file(NCCI_REMIT), claim_file(NCCI_CLAIMS)).packets
    letter = packet.letter_markdown
    assert packet.lines == (2,) and packet.actions == ("corrected-claim",)
    # the cause: 97530 is column 2 of the pair with 97140, billed without 59/X
    assert "97530 \\(column 2\\) was billed with 97140 \\(column 1, line 1\\)" in letter
    assert "CO-236" in letter and "Remark N20" in letter
    # the fix, with its condition, is the user's to do: in the checklist, not the letter
    assert "add 59 to 97530 \\(line 2\\)" in packet.checklist_markdown.lower() and "distinctly different 15-minute time blocks" in letter
    assert "add 59 to 97530" not in letter
    # the rule and its source
    assert "NCCI procedure-to-procedure" in letter and "MLN1783722" in letter
    assert "97140 \\(column 1\\) with 97530 \\(column 2\\), modifier indicator 1" in letter
    # the documentation checklist for the category goes to the checklist file
    assert "- [ ] Treatment note with the start and stop time of each service" in packet.checklist_markdown
    assert "- [ ]" not in letter
    # without evidence of distinct blocks nothing is built: the letter says what to change
    assert packet.replacement is None
    assert any("no replacement claim built" in note for note in packet.notes)


@pytest.mark.slow
def test_co236_with_distinct_time_blocks_gets_a_valid_replacement():
    minutes = parse_minutes_csv(DISTINCT, "minutes.csv")
    claims = claim_file(NCCI_CLAIMS)
    (packet,) = packets_for(remit_file(NCCI_REMIT), claims, minutes=minutes).packets
    assert packet.frequency == "7" and packet.replacement is not None
    doc, claim = read_back(packet.replacement)
    assert claim.frequency_code == "7" and claim.payer_claim_number == "SYNICN-FIRST"
    # every original line, paid ones included; 59 only on 97530, placed where the
    # commercial profile's conventional modifier order puts it (what M205 then accepts)
    assert [(line.procedure, line.modifiers) for line in claim.lines] == [
        ("97140", ("GP",)),
        ("97530", ("59", "GP")),
        ("97110", ("GP",)),
    ]
    isa = next(doc.segments())
    assert isa.element(13) == "000000500"
    assert "Applied in the enclosed claim: add 59" in packet.letter_markdown
    assert "The record places line 2 in time block 0915-0930 and line 1 in time block 0900-0915" in packet.letter_markdown.replace("\\", "")
    assert pyx12_valid(claims) and pyx12_valid(packet.replacement)


@pytest.mark.slow
def test_latest_clp07_after_a_reversal_goes_in_ref_f8():
    remit = remit_file(
        [
            P("PCN1", [S("97110", (), charge="-48", cas=[("CO", "45", "-20")], ref6r="PCN1-1")], status="22", icn="ICN-OLD"),
            P("PCN1", [S("97110", (), charge="48", cas=[("CO", "4", "48")], remarks=("N822",), ref6r="PCN1-1")], icn="ICN-NEW"),
        ]
    )
    claims = claim_file([C("PCN1", [L("97110", (), charge="48")], **COMMERCIAL)])
    (packet,) = packets_for(remit, claims).packets
    _, claim = read_back(packet.replacement)
    assert claim.payer_claim_number == "ICN-NEW"
    assert claim.lines[0].modifiers == ("GP",)
    assert pyx12_valid(packet.replacement)


def test_medicare_kx_correction_is_a_reopening_request_not_a_replacement():
    claims = claim_file([C("PCN1", [L("97110", charge="48")])])
    remit = remit_file([P("PCN1", [S("97110", charge="48", cas=[("PR", "119", "48")], ref6r="PCN1-1")], icn="ICN-NEW")])
    (packet,) = packets_for(remit, claims).packets
    assert packet.replacement is None and packet.frequency is None and packet.actions == ("reopening",)
    page = packet.letter_html
    assert "Clerical error reopening request: claim PCN1" in page
    assert "<td>1</td><td>97110</td><td>add KX</td>" in page and "Bipartisan Budget Act of 2018" in page


@pytest.mark.slow
def test_payer_wanting_new_claims_gets_frequency_1_and_ma130_always_does():
    config = parse_config('[profiles.default]\nreplacement_frequency = "1"\n', "c.toml")
    claims = claim_file([C("PCN1", [L("97110", ())], frequency="7", f8="OLDICN", **COMMERCIAL)])
    remit = remit_file([P("PCN1", [S("97110", (), cas=[("CO", "4", "50")], remarks=("N822",), ref6r="PCN1-1")])])
    (packet,) = packets_for(remit, claims, config=config).packets
    _, claim = read_back(packet.replacement)
    assert (packet.frequency, claim.frequency_code, claim.payer_claim_number) == ("1", "1", "")
    assert "as your instructions ask" in packet.letter_markdown
    assert pyx12_valid(packet.replacement)

    # Medicare: a claim returned as unprocessable is the one correction sent as a claim (a new one)
    claims = claim_file([C("PCN2", [L("97110", ())], member="SYN000002")])
    remit = remit_file([P("PCN2", [S("97110", (), cas=[("CO", "16", "50")], remarks=("M53",), ref6r="PCN2-1")], moa=("MA130",))])
    (packet,) = packets_for(remit, claims).packets
    _, claim = read_back(packet.replacement)
    assert packet.actions == ("new-claim",) and claim.frequency_code == "1" and claim.lines[0].modifiers == ("GP",)
    assert "no appeal rights" in packet.letter_markdown
    assert pyx12_valid(packet.replacement)


@pytest.mark.slow
def test_units_correction_rescales_the_charge_and_keeps_clm02_consistent():
    claims = claim_file([C("PCN1", [L("97110", charge="144", units="3"), L("97140", charge="47")], **COMMERCIAL)])
    remit = remit_file([P("PCN1", [S("97110", charge="144", units="3", cas=[("CO", "151", "144")], ref6r="PCN1-1"), S("97140", charge="47", cas=PAID, ref6r="PCN1-2")])])
    minutes = parse_minutes_csv("claim_id,line,minutes\nPCN1,1,30\nPCN1,2,8\n", "m.csv")
    (packet,) = packets_for(remit, claims, minutes=minutes).packets
    _, claim = read_back(packet.replacement)
    assert [(line.units, line.charge_raw) for line in claim.lines] == [(2, "96"), (1, "47")]
    assert claim.charge_raw == "143"
    assert "Pub. 100-04" in packet.letter_markdown and "units calculation under the 8-minute rule" in packet.checklist_markdown
    assert pyx12_valid(packet.replacement)


def test_cob_claims_get_no_unit_changes():
    claims = claim_file([C("PCN1", [L("97110", charge="144", units="3")], cob=True, **COMMERCIAL)])
    remit = remit_file([P("PCN1", [S("97110", charge="144", units="3", cas=[("CO", "151", "144")], ref6r="PCN1-1")])])
    minutes = parse_minutes_csv("claim_id,line,minutes\nPCN1,1,30\n", "m.csv")
    (packet,) = packets_for(remit, claims, minutes=minutes).packets
    assert packet.replacement is None and any("COB" in note for note in packet.notes)


def test_a_line_paid_after_its_correction_is_not_appealed():
    claims = claim_file([C("PCN1", [L("97110")])])
    remit = remit_file(
        [
            P("PCN1", [S("97110", cas=[("PR", "119", "50")], ref6r="PCN1-1")], icn="A"),
            P("PCN1", [S("97110", cas=PAID, ref6r="PCN1-1")], icn="B", frequency="7"),
        ]
    )
    assert packets_for(remit, claims).packets == ()


def test_write_offs_get_no_packet_but_are_listed():
    claims = claim_file([C("PCN1", [L("97110", ("GP", "GZ"))])])
    remit = remit_file([P("PCN1", [S("97110", ("GP", "GZ"), cas=[("CO", "50", "50")], ref6r="PCN1-1")])])
    packets = packets_for(remit, claims)
    assert packets.packets == () and index_json(packets)["not_appealed"] == [{"claim_id": "PCN1", "lines": [1], "actions": ["write-off"]}]


def test_appeal_letter_for_a_denial_billed_correctly():
    claims = claim_file([C("PCN1", [L("97110", charge="96", units="2")])])
    remit = remit_file([P("PCN1", [S("97110", charge="96", units="1", original_units="2", cas=[("CO", "151", "48")], ref6r="PCN1-1")])])
    minutes = parse_minutes_csv("claim_id,line,minutes\nPCN1,1,31\n", "m.csv")
    (packet,) = packets_for(remit, claims, minutes=minutes).packets
    assert packet.actions == ("appeal",) and packet.replacement is None and packet.notes == ()
    letter = packet.letter_markdown
    # Medicare's first level of appeal, its form and the deadline from the remittance date (2026-02-16)
    assert letter.startswith("# Redetermination request: claim PCN1")
    page = packet.letter_html
    assert "<strong>Request:</strong> redetermination (first level of appeal), form CMS-20027" in page
    assert "<strong>File by:</strong> 2026-06-16 (120 days from the remittance date)" in page
    assert "The record shows 31 timed minutes for the date of service (line 1: 97110 31 minutes, 2 units)" in page
    assert "these minutes allow 2 units for the day; 2 units were billed." in page
    assert "Chapter 5, §20.2" in letter and "Example 3" not in letter


def test_cms_example_3_letter_appeals_with_the_days_minutes_and_the_example():
    """97110 33 min x2 and 97140 7 min x1 (correct, CMS Ex. 3); 97140 denied CO-151 (issue 11, logic 1)."""
    claims = claim_file([C("PCN1", [L("97110", charge="96", units="2"), L("97140", charge="45")])])
    remit = remit_file([P("PCN1", [S("97110", charge="96", units="2", cas=PAID, ref6r="PCN1-1"), S("97140", charge="45", cas=[("CO", "151", "45")], ref6r="PCN1-2")])])
    minutes = parse_minutes_csv("claim_id,line,minutes\nPCN1,1,33\nPCN1,2,7\n", "m.csv")
    (packet,) = packets_for(remit, claims, minutes=minutes).packets
    assert packet.actions == ("appeal",) and packet.replacement is None
    letter = packet.letter_html
    assert "The record shows 40 timed minutes for the date of service (lines 1, 2: 97110 33 minutes, 2 units; 97140 7 minutes, 1 unit)" in letter
    assert "these minutes allow 3 units for the day; 3 units were billed." in letter
    assert "§20.2 Example 3 is this case" in letter
    assert "support 0" not in letter and "Corrected claim" not in letter


def test_contract_write_off_and_patient_share_are_not_listed_as_denial_reasons():
    claims = claim_file([C("PCN1", [L("97110", charge="96", units="2")])])
    cas = [("CO", "45", "10"), ("PR", "2", "3"), ("CO", "151", "48")]
    remit = remit_file([P("PCN1", [S("97110", charge="96", units="1", original_units="2", cas=cas, ref6r="PCN1-1")])])
    minutes = parse_minutes_csv("claim_id,line,minutes\nPCN1,1,31\n", "m.csv")
    (packet,) = packets_for(remit, claims, minutes=minutes).packets
    letter = packet.letter_markdown
    assert "CO-151" in letter
    assert "CO-45" not in letter and "PR-2" not in letter


def test_97014_to_medicare_letter_asks_for_g0283_and_never_says_billed_correctly():
    claims = claim_file([C("PCN1", [L("97014", charge="30"), L("97110")])])
    remit = remit_file(
        [P("PCN1", [S("97014", charge="30", cas=[("CO", "96", "30")], remarks=("N657",), ref6r="PCN1-1"), S("97110", cas=PAID, ref6r="PCN1-2")])]
    )
    (packet,) = packets_for(remit, claims).packets
    letter = packet.letter_markdown
    # Medicare Part B: the code is corrected through a clerical-error reopening, not a claim
    assert packet.actions == ("reopening",) and packet.lines == (1,)
    assert "billed correctly" not in letter and "reconsider" not in letter
    assert "Rebill" not in letter and "<td>1</td><td>97014</td><td>bill G0283 in place of 97014</td>" in packet.letter_html
    # which charge to set is the user's to decide: the checklist says so, the letter does not
    assert "practice's charge" not in letter
    assert "set the practice's charge for G0283 on the line before sending" in packet.checklist_markdown
    assert packet.replacement is None


def test_enrollment_denials_send_nothing_until_the_enrollment_is_fixed():
    claims = claim_file([C("PCN1", [L("97110")])])
    remit = remit_file([P("PCN1", [S("97110", cas=[("CO", "185", "50")], ref6r="PCN1-1")])])
    packets = packets_for(remit, claims)
    assert packets.packets == ()
    assert index_json(packets)["not_appealed"] == [{"claim_id": "PCN1", "lines": [1], "actions": ["fix-enrollment"]}]


def test_commercial_pr_119_visit_limit_is_billed_to_the_patient_not_appealed():
    claims = claim_file([C("PCN1", [L("97110")], **COMMERCIAL)])
    remit = remit_file([P("PCN1", [S("97110", cas=[("PR", "119", "50")], remarks=("N130",), ref6r="PCN1-1")])], payer="SYNTHETIC COMMERCIAL PPO")
    packets = packets_for(remit, claims)
    assert packets.packets == ()
    assert index_json(packets)["not_appealed"] == [{"claim_id": "PCN1", "lines": [1], "actions": ["bill-patient"]}]


def test_commercial_co_119_letter_asks_for_visits_not_kx():
    claims = claim_file([C("PCN1", [L("97110")], **COMMERCIAL)])
    remit = remit_file([P("PCN1", [S("97110", cas=[("CO", "119", "50")], remarks=("N640",), ref6r="PCN1-1")])], payer="SYNTHETIC COMMERCIAL PPO")
    (packet,) = packets_for(remit, claims).packets
    letter = packet.letter_markdown
    assert packet.actions == ("appeal",) and packet.replacement is None
    assert "KX" not in letter and "Bipartisan Budget Act" not in letter and "threshold" not in letter
    assert "approving visits above the limit" in letter and "- [ ] The visits used in the plan year" in packet.checklist_markdown


def test_a_packet_for_an_ambiguous_claim_says_which_claim_it_used():
    claims = claim_file([C("PCN1", [L("97110")])])
    again = claim_file([C("PCN1", [L("97110")])], isa13="000000002")
    remit = remit_file([P("PCN1", [S("97110", cas=[("CO", "50", "50")], ref6r="PCN1-1")])])
    (packet,) = packets_for(remit, ("first.x12", claims), ("second.x12", again)).packets
    assert packet.file == "second.x12"
    (note,) = [n for n in packet.notes if "other 837 claims" in n]
    assert "first.x12:" in note and "second.x12:" in note


def test_unmatched_denied_claim_gets_a_letter_from_the_remittance_alone():
    claims = claim_file([C("OTHER", [L("97110")])])
    remit = remit_file([P("NOPE", [S("97110", cas=[("CO", "50", "50")])])])
    (packet,) = packets_for(remit, claims).packets
    assert packet.file is None and packet.claim_id == "NOPE" and packet.lines == ()
    assert any("no 837 claim" in note for note in packet.notes)


# -- folders --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("claim_id", "expected"),
    [
        ("../../x", "001-x"),
        ("/etc/passwd", "001-etc_passwd"),
        ("..", "001-claim"),
        ("a b\x00c", "001-a_b_c"),
        ("C:\\win", "001-C_win"),
        (".hidden", "001-hidden"),
        ("PCN1", "001-PCN1"),
        ("x" * 60, "001-" + "x" * 40),
    ],
)
def test_folder_names_are_plain_names(claim_id, expected):
    name = folder_name(1, claim_id)
    assert name == expected
    assert "/" not in name and "\\" not in name and not name.startswith(".")


def test_duplicate_and_case_only_different_claim_ids_get_distinct_folders():
    claims = claim_file([C("pcn1", [L("97110")]), C("PCN1", [L("97110")], member="SYN2"), C("PCN1", [L("97140", charge="47")], member="SYN3")])
    remit = remit_file(
        [
            P("pcn1", [S("97110", cas=[("CO", "50", "50")], ref6r="pcn1-1")], icn="A"),
            P("PCN1", [S("97110", cas=[("CO", "50", "50")], ref6r="PCN1-1")], icn="B"),
            P("PCN1", [S("97140", charge="47", cas=[("CO", "50", "47")], ref6r="PCN1-1")], icn="C"),
        ]
    )
    packets = packets_for(remit, claims).packets
    folders = [p.folder for p in packets]
    assert len(packets) == 3 and len({f.lower() for f in folders}) == 3


# -- escaping ------------------------------------------------------------------------------------
EVIL = '<script>alert("x")</script> & **bold** [l](http://e) | `c`'


def test_html_escapes_every_value_from_the_file():
    claims = claim_file([C("PCN<b>&1", [L("97110")], last="<img src=x onerror=alert(1)>")], billing="ACME & <SONS>")
    remit = remit_file([P("PCN<b>&1", [S("97110", cas=[("CO", "50", "50")], ref6r="PCN<b>&1-1")])], payer="PAYER <i>&amp;")
    (packet,) = packets_for(remit, claims).packets
    page = packet.letter_html
    for raw in ("<b>", "<img", "<i>", "<SONS>"):
        assert raw not in page
    assert "PCN&lt;b&gt;&amp;1" in page and "PAYER &lt;i&gt;&amp;amp;" in page
    tags = set()

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.add(tag)

    Tags().feed(page)
    assert tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "ul", "li", "strong", "table", "thead", "tbody", "tr", "th", "td", "br"}
    assert "Content-Security-Policy" in page
    md = packet.letter_markdown
    assert "<img" not in md and "&lt;img src=x onerror=alert\\(1\\)&gt;" in md


def test_renderers_escape_block_text():
    blocks = [Block("h1", EVIL), Block("p", EVIL), Block("facts", items=((EVIL, EVIL),)), Block("ul", items=(EVIL,)), Block("checklist", items=(EVIL,)), Block("table", items=((EVIL,),), header=(EVIL,))]
    md = render_markdown(blocks)
    assert "<script>" not in md and "**bold**" not in md and "[l](" not in md and "| `c`" not in md
    page = render_html(blocks, EVIL)
    assert "<script>" not in page and page.count("&lt;script&gt;") == 9
    assert md_escape("1. x") == "1\\. x" and md_escape("- x") == "\\- x"
    assert re.search(r"[\x00-\x08]", md_escape("a\x00b")) is None


def test_mixed_claim_names_the_lines_of_each_request():
    claims = claim_file([C("PCN1", [L("97110", ()), L("97035", charge="22")], **COMMERCIAL)])
    remit = remit_file(
        [P("PCN1", [S("97110", (), cas=[("CO", "4", "50")], remarks=("N822",), ref6r="PCN1-1"), S("97035", charge="22", cas=[("OA", "18", "22")], ref6r="PCN1-2")])]
    )
    (packet,) = packets_for(remit, claims).packets
    letter = packet.letter_markdown
    assert packet.actions == ("corrected-claim", "reopening") and packet.replacement is not None
    assert "A corrected claim is enclosed for line 1;" in letter
    assert "reopen the claim and reprocess line 2 as submitted" in letter
    assert "line 2 is submitted again with it" in letter
    _, claim = read_back(packet.replacement)
    assert [line.procedure for line in claim.lines] == ["97110", "97035"]


# -- the correction route follows the payer (issue 11, logic 2) ------------------------------
def test_medicare_ncci_denial_gets_a_reopening_request_and_no_frequency_7_claim():
    minutes = parse_minutes_csv(DISTINCT, "minutes.csv")
    (packet,) = packets_for(remit_file(NCCI_REMIT), claim_file(NCCI_MEDICARE), minutes=minutes).packets
    assert packet.actions == ("reopening",) and packet.replacement is None and packet.frequency is None
    assert index_json(Packets((packet,)))["claims"][0]["replacement_claim"] is None
    page = packet.letter_html
    assert "<h1>Clerical error reopening request: claim PCN1</h1>" in page
    assert "No replacement claim is sent." in page
    # what to change on which line, with the evidence
    assert "<h2>Changes requested</h2>" in page and "<td>2</td><td>97530</td><td>add 59 to 97530: the treatment record&#39;s time log puts the two services in distinct time blocks</td>" in page
    assert "The record places line 2 in time block 0915-0930" in page
    assert "<strong>File by:</strong> 2027-02-16 (365 days from the remittance date)" in page
    assert "frequency code 7" not in page


def test_commercial_appeal_names_the_profiles_first_level_and_its_deadline():
    claims = claim_file([C("PCN1", [L("97110", charge="96", units="2")], **COMMERCIAL)])
    remit = remit_file([P("PCN1", [S("97110", charge="96", units="1", original_units="2", cas=[("CO", "151", "48")], ref6r="PCN1-1")])])
    (packet,) = packets_for(remit, claims, minutes=parse_minutes_csv("claim_id,line,minutes\nPCN1,1,31\n", "m.csv")).packets
    assert packet.letter_markdown.startswith("# First-level appeal request: claim PCN1")
    assert "<strong>File by:</strong> 2026-08-15 (180 days from the remittance date)" in packet.letter_html


def test_a_new_claim_route_sends_corrections_as_frequency_1():
    import dataclasses

    claims = claim_file([C("PCN1", [L("97110", ())], **COMMERCIAL)])
    remit = remit_file([P("PCN1", [S("97110", (), cas=[("CO", "4", "50")], remarks=("N822",), ref6r="PCN1-1")])])
    result = run(remit, claims)
    record = result.rows[0].match.record
    record.profile = dataclasses.replace(record.profile, correction_route="new-claim")
    (packet,) = build_packets(result, MAPS, today=TODAY).packets
    assert_speaks_to_payer(packet)
    assert packet.frequency == "1" and read_back(packet.replacement)[1].frequency_code == "1"


def test_payer_profiles_carry_the_correction_route_and_appeal_levels():
    medicare = next(p for p in MAPS.profiles if p.name == "medicare")
    assert (medicare.correction_route, medicare.correction_days) == ("reopening", 365)
    assert [(level.name, level.days, level.form) for level in medicare.appeal_levels] == [
        ("redetermination", 120, "CMS-20027"),
        ("reconsideration", 180, None),
    ]
    default = next(p for p in MAPS.profiles if p.name == "default")
    assert default.correction_route == "replacement" and [lv.name for lv in default.appeal_levels] == ["first-level appeal"]
    medicaid = next(p for p in MAPS.profiles if p.name == "medicaid")
    assert medicaid.appeal_levels == default.appeal_levels  # no levels of its own: the default's


def test_per_code_payer_units_appeal_cites_the_cpt_time_rule_not_medicare():
    config = parse_config('[profiles.acme]\nextends = "commercial-per-code"\npayer_ids = ["ACME1"]\n', "c.toml")
    claims = claim_file([C("PCN1", [L("97110", charge="96", units="2")], **COMMERCIAL)])
    remit = remit_file([P("PCN1", [S("97110", charge="96", units="1", original_units="2", cas=[("CO", "151", "48")], ref6r="PCN1-1")])])
    minutes = parse_minutes_csv("claim_id,line,minutes\nPCN1,1,31\n", "m.csv")
    (packet,) = packets_for(remit, claims, minutes=minutes, config=config).packets
    assert packet.actions == ("appeal",)
    page = packet.letter_html
    assert "The CPT time rule for 15-minute timed codes" in page
    assert "The record shows these timed minutes for the date of service (line 1): 97110 31 minutes, 2 units." in page
    assert "§20.2" not in page and "Pub. 100-04" not in page


def test_a_config_profile_can_route_a_medicare_advantage_plan_to_replacement_claims():
    # MA plans usually take frequency-7 replacements; a plan set up so in the config gets one.
    config = parse_config(
        '[profiles.ma-plan]\nextends = "medicare"\nfiling_indicators = ["MB"]\ncorrection_route = "replacement"\n',
        "c.toml",
    )
    minutes = parse_minutes_csv(DISTINCT, "minutes.csv")
    (packet,) = packets_for(remit_file(NCCI_REMIT), claim_file(NCCI_MEDICARE), minutes=minutes, config=config).packets
    assert packet.frequency == "7" and packet.replacement is not None
    assert "reopening" not in packet.actions


#: one claim and remittance per kind of request a letter makes (the payer's words for them differ)
LETTER_KINDS = {
    "appeal": ([C("PCN1", [L("97110")], **COMMERCIAL)], [P("PCN1", [S("97110", cas=[("CO", "50", "50")], ref6r="PCN1-1")])]),
    "reopening": ([C("PCN1", [L("97110")], **COMMERCIAL)], [P("PCN1", [S("97110", cas=[("CO", "4", "50")], remarks=("N822",), ref6r="PCN1-1")])]),
    "reopening-correction": ([C("PCN1", [L("97110", charge="48")])], [P("PCN1", [S("97110", charge="48", cas=[("PR", "119", "48")], ref6r="PCN1-1")])]),
    "corrected-claim": ([C("PCN1", [L("97110", ())], **COMMERCIAL)], [P("PCN1", [S("97110", (), cas=[("CO", "4", "50")], remarks=("N822",), ref6r="PCN1-1")])]),
    "new-claim": ([C("PCN1", [L("97110", ())])], [P("PCN1", [S("97110", (), cas=[("CO", "16", "50")], remarks=("M53",), ref6r="PCN1-1")], moa=("MA130",))]),
}


@pytest.mark.parametrize("kind", sorted(LETTER_KINDS))
def test_every_kind_of_letter_speaks_to_the_payer_and_the_checklist_holds_the_rest(kind):
    claims, remit = LETTER_KINDS[kind]
    (packet,) = packets_for(remit_file(remit), claim_file(claims)).packets  # packets_for scans the letter
    assert packet.request == kind
    assert packet.checklist[0].startswith("Check every statement of the letter against the medical record")
    assert packet.checklist_markdown.startswith("# Before sending the letter for claim PCN1")
    assert all(f"- [ ] {item}" in packet.checklist_markdown.replace("\\", "") for item in packet.checklist + packet.documents)
    # whatever the user is told in a note is in the checklist, not the letter
    assert all(any(note[1:] in item for item in packet.checklist) for note in packet.notes)


def test_the_letter_scan_catches_rule_codes_options_and_tool_words():
    (packet,) = packets_for(remit_file(LETTER_KINDS["appeal"][1]), claim_file(LETTER_KINDS["appeal"][0])).packets
    for bad in ("check finds U101", "give --minutes", "edi-rehab's map", "the NCCI map"):
        page = packet.letter_html.replace("</h1>", f"</h1><p>{bad}</p>", 1)
        with pytest.raises(AssertionError):
            assert_speaks_to_payer(dataclasses.replace(packet, letter_html=page))
    # the payer's own remark codes may be quoted
    page = packet.letter_html.replace("</h1>", "</h1><p>Remark N130: sent by the payer</p>", 1)
    assert_speaks_to_payer(dataclasses.replace(packet, letter_html=page))


PRACTICE = """
[practice]
name = "Synthetic Physical Therapy"
npi = "1234567893"
contact = "555-555-0100, billing@example.com"
signer = "Jane Roe, PT, Billing Manager"
"""


def test_letter_has_the_payers_address_a_salutation_and_the_configured_signature():
    claims, remit = LETTER_KINDS["appeal"]
    # the payee's N3/N4 (loop 1000B) follow the payer's: only the payer's address is used
    data = remit_file(remit, payer="SYNTHETIC COMMERCIAL PPO").replace(b"N1*PE*SYNTHETIC PHYSICAL THERAPY*XX*2667182382~\n", b"N1*PE*SYNTHETIC PHYSICAL THERAPY*XX*2667182382~\nN3*9 PAYEE ROAD~\nN4*OTHERTOWN*IL*62702~\n")
    assert b"N3*9 PAYEE ROAD" in data
    (packet,) = packets_for(data, claim_file(claims), config=parse_config(PRACTICE, "c.toml")).packets
    page = packet.letter_html
    assert "<p>SYNTHETIC COMMERCIAL PPO<br>\nPO BOX 1000<br>\nSPRINGFIELD, IL 62701</p>" in page
    assert "PAYEE ROAD" not in page and "OTHERTOWN" not in page
    assert "<p>Dear Sir or Madam,</p>" in page
    assert page.index("Dear Sir or Madam") < page.index("<h2>Request</h2>")
    assert (
        "<p>Sincerely,</p>\n<p>Jane Roe, PT, Billing Manager<br>\nSynthetic Physical Therapy<br>\nNPI 1234567893<br>\n"
        "555-555-0100, billing@example.com</p>" in page
    )
    assert "SYNTHETIC COMMERCIAL PPO\\\nPO BOX 1000\\\nSPRINGFIELD, IL 62701" in packet.letter_markdown
    assert "[" not in page.split("<body>")[1].replace("[documents enclosed]", "")
    assert not any("signature block" in item for item in packet.checklist)
    # the level, form and deadline lines stay
    assert "<strong>File by:</strong>" in page


def test_letter_without_practice_or_payer_address_has_placeholders_the_checklist_names():
    claims, remit = LETTER_KINDS["appeal"]
    data = remit_file(remit, payer="SYNTHETIC COMMERCIAL PPO").replace(b"N3*PO BOX 1000~\n", b"").replace(b"N4*SPRINGFIELD*IL*62701~\n", b"")
    (packet,) = packets_for(data, claim_file(claims)).packets
    page = packet.letter_html
    assert "<p>SYNTHETIC COMMERCIAL PPO<br>\n[payer address]</p>" in page
    assert "[signer name and title]<br>\n[practice name]<br>\nNPI [practice NPI]<br>\n[practice contact]</p>" in page
    todo = " ".join(packet.checklist)
    assert "Fill in the signature block ([signer name and title], [practice name], [practice NPI], [practice contact])" in todo
    assert "[payer address]" in todo
    # a partial [practice] table: only what is missing is a placeholder
    (packet,) = packets_for(remit_file(remit), claim_file(claims), config=parse_config('[practice]\nname = "Synthetic PT"\n', "c.toml")).packets
    assert "<br>\nSynthetic PT<br>\nNPI [practice NPI]" in packet.letter_html
    assert any("([signer name and title], [practice NPI], [practice contact])" in item for item in packet.checklist)


def test_each_letter_kind_has_its_template_and_both_formats_come_from_it():
    from edi_rehab.appeal import LETTER_KINDS as KINDS, render_letter

    assert set(KINDS) == set(LETTER_KINDS)
    blocks = [Block("p", "Date: 2026-03-02"), Block("lines", items=("PAYER", "PO BOX 1"))]
    headings = {}
    for kind in KINDS:
        md = render_letter(kind, "md", blocks, claim_id="PCN1", level_name="redetermination")
        page = render_letter(kind, "html", blocks, claim_id="PCN1", level_name="redetermination", title="t")
        heading = md.splitlines()[0][2:]
        assert f"<h1>{heading}</h1>" in page and heading.endswith(": claim PCN1")
        assert "PAYER\\\nPO BOX 1\n" in md and "<p>PAYER<br>\nPO BOX 1</p>" in page
        headings[kind] = heading
    assert headings["appeal"] == "Redetermination request: claim PCN1"
    assert render_letter("appeal", "md", blocks, claim_id="PCN1").startswith("# Request for reconsideration: claim PCN1")
    assert len(set(headings.values())) == len(KINDS)
    with pytest.raises(ValueError, match="no letter template"):
        render_letter("write-off", "md", blocks, claim_id="PCN1")


def test_templates_escape_every_value_in_both_formats():
    from edi_rehab.appeal import render_letter

    hostile = "<script>alert(1)</script> *bold* [x](javascript:y) # \x07"
    blocks = [Block("p", hostile), Block("table", items=((hostile, "1"),), header=("A", "B")), Block("lines", items=(hostile,))]
    page = render_letter("appeal", "html", blocks, claim_id=hostile, title=hostile)
    assert "<script>" not in page and "&lt;script&gt;" in page and "\x07" not in page
    md = render_letter("appeal", "md", blocks, claim_id=hostile)
    assert "<script>" not in md and "\\*bold\\*" in md and "\\[x\\]\\(javascript:y\\)" in md


def test_a_re_evaluation_ncci_letter_asks_for_a_separately_identifiable_re_evaluation():
    # 97530 (column 1) with the re-evaluation 97164 (column 2), 59 on 97164, denied CO-236:
    # evaluations are not timed, so the letter argues a separately identifiable re-evaluation.
    lines = [L("97530", charge="55"), L("97164", modifiers=("59", "GP"), charge="90")]
    remit = remit_file(
        [
            P(
                "PCN1",
                [
                    S("97530", charge="55", cas=PAID, ref6r="PCN1-1"),
                    S("97164", modifiers=("59", "GP"), charge="90", cas=[("CO", "236", "90")], remarks=("N20",), ref6r="PCN1-2"),
                ],
            )
        ]
    )
    minutes = parse_minutes_csv("claim_id,line,minutes,time_block\nPCN1,1,30,0900-0930\nPCN1,2,30,0900-0930\n", "m.csv")
    (packet,) = packets_for(remit, claim_file([C("PCN1", lines, **COMMERCIAL)]), minutes=minutes).packets
    assert packet.actions == ("appeal",)
    letter = packet.letter_markdown
    assert "separately identifiable" in letter and "time block" not in letter
    assert "97530 (column 1) with 97164 (column 2)" in packet.letter_html
    assert "The evaluation or re-evaluation note" in packet.checklist_markdown
    assert "separately identifiable evaluation" in packet.checklist_markdown
    assert_speaks_to_payer(packet)


def test_the_lines_table_names_the_payers_first_appeal_level():
    # Medicare's first level is a redetermination; "reconsideration" is its second level.
    claims = claim_file([C("PCN1", [L("97110", charge="96", units="2")])])
    remit = remit_file([P("PCN1", [S("97110", charge="96", units="1", original_units="2", cas=[("CO", "151", "48")], ref6r="PCN1-1")])])
    minutes = parse_minutes_csv("claim_id,line,minutes\nPCN1,1,31\n", "m.csv")
    (packet,) = packets_for(remit, claims, minutes=minutes).packets
    assert "<td>CO-151</td><td>redetermination</td>" in packet.letter_html
    assert "reconsideration" not in packet.letter_html


def test_the_medicare_ncci_advice_asks_for_a_reopening_not_a_corrected_claim():
    minutes = parse_minutes_csv(DISTINCT, "minutes.csv")
    (packet,) = packets_for(remit_file(NCCI_REMIT), claim_file(NCCI_MEDICARE), minutes=minutes).packets
    assert "ask for a clerical-error reopening" in packet.checklist_markdown
    assert "corrected claim" not in packet.checklist_markdown
    (commercial,) = packets_for(remit_file(NCCI_REMIT), claim_file(NCCI_CLAIMS), minutes=minutes).packets
    assert "and send a corrected claim" in commercial.checklist_markdown
