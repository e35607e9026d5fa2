# Envelope and structure rules (X001-X007). Ids: CODE::fail_* must fire CODE, CODE::pass_* must not.
from claimkit import claim, ln, x12
from rulecases import fail, ok

GOOD = claim(ln("97110:GP", 1))


def edited(old: bytes, new: bytes, *claims) -> bytes:
    data = x12(*(claims or (GOOD,)))
    assert old in data, old
    return data.replace(old, new, 1)


def sv101_joined_with(character: bytes, *claims, isa16: bytes | None = None) -> bytes:
    """The claims with every SV101 joined by ``character`` (ISA16 stays ':' unless ``isa16``)."""
    import re

    data = x12(*(claims or (GOOD,)))
    data = re.sub(rb"SV1\*([^*~]*)", lambda m: b"SV1*" + m.group(1).replace(b":", character), data)
    if isa16 is not None:
        data = data.replace(b"*:~", b"*" + isa16 + b"~", 1).replace(b"HI*ABK:", b"HI*ABK" + isa16)
    return data


def institutional() -> bytes:
    return x12(GOOD).replace(b"005010X222A1", b"005010X223A2")


CASES = [
    # -- X001: trailer counts ------------------------------------------------------------------------
    fail("X001::fail_se01_one_too_high", data=x12(GOOD, se_count=99), count=1, at=[(None, None)]),
    fail("X001::fail_ge01_one_too_high", data=x12(GOOD, ge_count=2), count=1),
    fail("X001::fail_iea01_wrong", data=edited(b"IEA*1*", b"IEA*3*")),
    ok("X001::pass_counts_right", GOOD, clean=True),

    # -- X002: no DTP*472 ---------------------------------------------------------------------------
    fail("X002::fail_line_without_service_date", claim(ln("97110:GP", 1), ln("97140:GP", 1, dos=None)),
         count=1, at=[("PCN1", 2)]),
    ok("X002::pass_every_line_dated", claim(ln("97110:GP", 1), ln("97140:GP", 1)), clean=True),

    # -- X003: tolerated input ----------------------------------------------------------------------
    fail("X003::fail_byte_order_mark", data=b"\xef\xbb\xbf" + x12(GOOD), count=1),
    fail("X003::fail_empty_segment", data=edited(b"HI*ABK:M545~", b"HI*ABK:M545~~")),
    fail("X003::fail_letter_as_repetition_separator", data=edited(b"*^*00501*", b"*U*00501*")),
    fail("X003::fail_whitespace_after_the_last_iea", data=x12(GOOD) + b"\n\n  \n"),
    ok("X003::pass_plain_file", GOOD, clean=True),
    # before 00402 ISA11 is the standards identifier, and U its required value, not a separator
    ok("X003::pass_4010_isa11_u", data=edited(b"*^*00501*", b"*U*00401*"), clean=True),
    fail("X003::fail_4010_isa11_another_letter", data=edited(b"*^*00501*", b"*X*00401*"), count=1),
    fail("X003::fail_5010_isa11_u", data=edited(b"*^*00501*", b"*U*00501*"), count=1),
    ok("X003::pass_crlf_after_each_segment", data=x12(GOOD, terminator="~\r\n"), clean=True),

    # -- X004: control numbers ----------------------------------------------------------------------
    fail("X004::fail_se02_differs_from_st02", data=edited(b"*0001~\nGE", b"*0002~\nGE"), count=1),
    fail("X004::fail_iea02_differs_from_isa13", data=edited(b"IEA*1*000000001", b"IEA*1*000000002"), count=1),
    ok("X004::pass_matching_control_numbers", GOOD, clean=True),

    # -- X005: LX sequence ----------------------------------------------------------------------------
    fail("X005::fail_gap", claim(ln("97110:GP", 1), ln("97140:GP", 1, lx="3")), count=1, at=[("PCN1", 3)]),
    fail("X005::fail_repeat", claim(ln("97110:GP", 1), ln("97140:GP", 1, lx="1")), count=1),
    fail("X005::fail_not_a_number", claim(ln("97110:GP", 1, lx="A"))),
    ok("X005::pass_sequential", claim(ln("97110:GP", 1), ln("97140:GP", 1), ln("97530:59:GP", 1)), clean=True),

    # -- X007: SV101 joined with another character than ISA16 (issue 10 item 9) ------------------------
    fail("X007::fail_sv101_joined_with_gt", data=sv101_joined_with(b">"), count=1, at=[("PCN1", 1)],
         severity="error"),
    # read as the sender meant it, so the other rules judge the line: 97530 beside 97140 is N301
    fail("X007::fail_read_lines_reach_the_ncci_rules",
         data=sv101_joined_with(b">", claim(ln("97140:GP", 1), ln("97530:GP", 1))), count=2, also=["N301"]),
    # HC>97110 has no GP: M201 sees the code it could not see before
    fail("X007::fail_read_line_reaches_the_modifier_rules", data=sv101_joined_with(b">", claim(ln("97110", 1))),
         also=["M201"]),
    # a code outside the maps is not read, but the line is still reported
    fail("X007::fail_unreadable_code_is_reported", data=sv101_joined_with(b"^", claim(ln("ZZ999:GP", 1))),
         count=1, severity="error"),
    ok("X007::pass_plain_file", GOOD, clean=True),
    ok("X007::pass_sv101_joined_with_isa16", data=sv101_joined_with(b">", GOOD, isa16=b">"), clean=True),

    # -- X006: not an 837P ----------------------------------------------------------------------------
    fail("X006::fail_institutional_claim", data=institutional(), count=1, at=[(None, None)]),
    ok("X006::pass_professional_claim", GOOD, clean=True),
]
