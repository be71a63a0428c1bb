"""The per-query functions of the codec keep MicroPython frames on the C stack.

MicroPython 1.25 allocates the frame of a function on the heap when its state (N_STATE words
+ 2 words per N_EXC_STACK entry) exceeds 11 words (py/objfun.c VM_MAX_STATE_ON_STACK); on a
fragmented heap that costs microseconds per call. `micropython -v -v` prints both numbers for
every code block it compiles; this test reads them from the host binary (skipped without it).
"""

import os

import pytest

from tests.host.frames import BINARY, too_big

# module file -> functions on the query / response paths (decode, peek, encode)
HOT = {
    "message.py": [
        "decode",
        "_decode",
        "_new_message",
        "_check_header",
        "_u16",
        "_u32",
        "_sections",
        "_sections_partial",
        "_section",
        "_record",
        "_check_fixed",
        "_plain_into",
        "_add",
        "_plain_rr",
        "_rdata_at",
        "_opt_at",
        "_opt_into",
        "_rd_end",
        "_question",
        "_check_opt",
        "_check_end",
        "decode_question",
        "_peek",
        "_peek_opt_only",
    ],
    "encoder.py": [
        "encode",
        "_check",
        "_start",
        "_put_question",
        "_put_section",
        "_put_rrset",
        "_put_rr",
        "_fixed",
        "_same_set",
        "_opt_wire",
        "_opt_fixed",
        "_tsig_wire",
        "_finish",
        "_set16",
    ],
    "name.py": ["decode_name", "_decode_pointed", "_decode_name_slow", "_pointer", "__init__"],
    "rdbase.py": ["write_name", "name_at", "name_exact", "string_at", "need", "done", "u16"],
    "rdata.py": ["decode"],
    "edns.py": ["from_opt", "_options", "_option_at", "decode_option", "options_to_wire"],
}


@pytest.mark.skipif(not os.path.exists(BINARY), reason="no build/host/dnsbox")
def test_hot_functions_fit_the_stack_frame():
    big = too_big("wire", HOT)
    assert not big, big
