"""Strictness: every malformed packet raises WireError with the offset of the fault and a reason,
and nothing else escapes. Each packet is hand-made; the comments derive every byte."""

from dnsbox.wire import message as M
from dnsbox.wire.errors import ShortError, WireError
from tests.unit.helpers import raises, unhex

HDR_Q = "abcd 0100 0001 0000 0000 0000"  # id, RD, QD=1
Q_ROOT_A = "00 0001 0001"  # question: root, A, IN (offsets 12..16)


def bad(hexpkt, offset, word):
    e = raises(WireError, M.decode, unhex(hexpkt))
    assert e.offset == offset, (e.offset, e.reason)
    assert word in e.reason, e.reason
    # the peek used by the server's fast path rejects it the same way
    e2 = raises(WireError, M.decode_question, unhex(hexpkt))
    assert e2.offset == offset and word in e2.reason, (e2.offset, e2.reason)
    return e


def test_pointer_forward_rejected():
    bad(
        """abcd 0100 0001 0000 0000 0000
        c00e 0001 0001   # offset 12: pointer to 14 (the qtype bytes, forward of the name)""",
        12,
        "backwards",
    )


def test_pointer_to_itself_rejected():
    bad(
        "abcd 0100 0001 0000 0000 0000  c00c 0001 0001  # offset 12: pointer to 12",
        12,
        "backwards",
    )


def test_pointer_loop_rejected():
    # offset 12: label "a" then pointer to 12 (the start of this very name): a loop
    bad("abcd 0100 0001 0000 0000 0000  01 61 c00c 0001 0001", 14, "backwards")


def test_pointer_into_the_same_record_after_the_owner_rejected():
    # answer owner at 17 points back to 12 (fine); its CNAME rdata at 29 points to 31,
    # which lies after the pointer itself.
    bad(
        """abcd 8100 0001 0001 0000 0000
        01 61 00 0005 0001        # 12: question a. CNAME IN
        c00c 0005 0001 00000000 0004   # 19: owner -> 12, CNAME IN ttl 0, rdlength 4
        c01f 0000                 # 31: pointer to 31 (itself), then 2 filler bytes""",
        31,
        "backwards",
    )


def test_label_type_0x40_rejected():
    bad("abcd 0100 0001 0000 0000 0000  41 0000 0001 0001  # 12: 0x41: extended label", 12, "0x40")


def test_label_type_0x80_rejected():
    bad("abcd 0100 0001 0000 0000 0000  01 61 80 0001 0001  # 14: 0x80: reserved", 14, "0x80")


def test_name_over_255_octets_rejected():
    # four 63-octet labels are 256 octets before the root: the fourth label is refused
    label = "3f" + "61" * 63
    e = raises(WireError, M.decode, unhex(HDR_Q + label * 4 + "00 0001 0001"))
    assert "255" in e.reason and e.offset == 12 + 64 * 3


def test_rdata_must_consume_rdlength_exactly():
    # A record with rdlength 5: an A rdata is 4 bytes
    bad(
        HDR_Q.replace("0000 0000 0000", "0001 0000 0000")
        + Q_ROOT_A
        + """
        00 0001 0001 00000e10 0005   # 17: root A IN ttl 3600 rdlength 5
        c0000201 ff                  # 28: 4 address bytes + 1 extra""",
        28,
        "4 bytes",
    )
    # MX whose name ends before rdlength: rdlength 5, preference (2) + root (1) = 3
    bad(
        HDR_Q.replace("0000 0000 0000", "0001 0000 0000")
        + Q_ROOT_A
        + "00 000f 0001 00000000 0005  000a 00 ffff   # 17: MX, 28: pref 10, root, 2 extra",
        31,
        "left",
    )


def test_record_counts_never_drive_allocation():
    # ANCOUNT 65535 with no records: fails at the first missing record, at once
    e = raises(ShortError, M.decode, unhex("abcd 8100 0000 ffff ffff ffff"))
    assert e.offset == 12
    # partial decode of the same keeps nothing and does not loop 65535 times
    m = M.decode(unhex("abcd 8100 0000 ffff ffff ffff"), partial=True)
    assert m.partial and m.answer == []


def test_opt_only_in_additional():
    # OPT in the answer section
    bad(
        "abcd 8100 0000 0001 0000 0000  00 0029 1000 00000000 0000  # 12: OPT in answer",
        12,
        "additional",
    )


def test_opt_only_once():
    bad(
        """abcd 0100 0000 0000 0000 0002
        00 0029 1000 00000000 0000    # 12: OPT
        00 0029 1000 00000000 0000    # 23: a second OPT""",
        23,
        "second OPT",
    )


def test_opt_owner_must_be_root():
    bad(
        "abcd 0100 0000 0000 0000 0001  01 61 00 0029 1000 00000000 0000  # OPT owned by a.",
        12,
        "root",
    )


def test_opt_option_overrunning_rdata():
    bad(
        """abcd 0100 0000 0000 0000 0001
        00 0029 1000 00000000 0006   # 12: OPT rdlength 6
        000a 0008 0102             # 23: COOKIE claims 8 bytes, 2 left in the rdata""",
        25,
        "past the rdata",
    )


def test_cookie_length_checked():
    bad(
        """abcd 0100 0000 0000 0000 0001
        00 0029 1000 00000000 0007   # 12: OPT rdlength 7
        000a 0003 010203             # 23: COOKIE of 3 bytes (client cookie is 8)""",
        27,
        "COOKIE",
    )


TSIG_RR = """
    03 6b6579 00 00fa 00ff 00000000 001d   # key. TSIG ANY ttl 0 rdlength 29 = 13 + 6 + 2*5
    0b 686d61632d736861323536 00          # hmac-sha256. (13 bytes)
    0000 00000000 012c 0000 abcd 0000 0000  # time, fudge 300, mac size 0, orig id, error, other 0
"""


def test_tsig_accepted_when_last():
    m = M.decode(unhex("abcd 0100 0000 0000 0000 0001" + TSIG_RR))
    assert m.tsig is not None and m.additional == [] and m.tsig.rdata.fudge == 300
    assert m.tsig.rdata.algorithm.to_text() == "hmac-sha256."


def test_tsig_only_last():
    bad(
        "abcd 0100 0000 0000 0000 0002"
        + TSIG_RR
        + "00 0001 0001 00000000 0004 01020304  # 53: an A record after the TSIG",
        12,
        "last",
    )


def test_tsig_only_in_additional():
    bad("abcd 0100 0000 0001 0000 0000" + TSIG_RR, 12, "last")


def test_qdcount_over_one():
    bad("abcd 0100 0002 0000 0000 0000" + Q_ROOT_A + Q_ROOT_A, 4, "QDCOUNT")


def test_trailing_bytes():
    bad(HDR_Q + Q_ROOT_A + "00", 17, "trailing")


def test_truncated_question():
    e = raises(ShortError, M.decode, unhex(HDR_Q + "00 0001"))
    assert e.offset == 13


def test_rdata_past_end_is_short():
    e = raises(
        ShortError,
        M.decode,
        unhex(
            HDR_Q.replace("0000 0000 0000", "0001 0000 0000")
            + Q_ROOT_A
            + "00 0001 0001 00000000 0004 c000"
        ),
    )
    assert e.offset == 26  # the rdlength field
