"""Run inside a network namespace by tests/abuse/test_open_resolver.py (`ip netns exec NS
python3 tests/abuse/nsrun.py ...`, the repository root on PYTHONPATH):

  nsrun.py upstream                  the fake upstream (tests/host/fakeupstream.py) on
                                     127.0.0.1: prints "ready PORT", then for each line read
                                     the number of queries it has received; ends at EOF
  nsrun.py ask SERVER PORT SOURCE NAME TYPE [CLASS] [tcp]
                                     one query from SOURCE; prints the reply as JSON:
                                     {"rcode", "aa", "ra", "answer": ["owner TYPE rdata"]}
"""
import json
import sys

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

ASK_TIMEOUT_S = 5


def upstream():
    from tests.host.fakeupstream import FakeUpstream

    up = FakeUpstream()
    print("ready %d" % up.port, flush=True)
    for _line in sys.stdin:
        print(up.total(), flush=True)
    up.stop()
    return 0


def ask(server, port, source, name, rdtype, rdclass="IN", tcp=""):
    q = dns.message.make_query(name, rdtype, rdclass)
    try:
        if tcp == "tcp":
            r = dns.query.tcp(q, server, port=int(port), source=source, timeout=ASK_TIMEOUT_S)
        else:
            r = dns.query.udp(q, server, port=int(port), source=source, timeout=ASK_TIMEOUT_S)
    except Exception as e:  # noqa: BLE001 - reported to the test as it is
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        return 0
    print(json.dumps({
        "rcode": dns.rcode.to_text(r.rcode()),
        "aa": bool(r.flags & dns.flags.AA),
        "ra": bool(r.flags & dns.flags.RA),
        "answer": ["%s %s %s" % (rr.name.to_text(), dns.rdatatype.to_text(rr.rdtype),
                                 a.to_text()) for rr in r.answer for a in rr],
    }))
    return 0


def main(argv):
    if argv[:1] == ["upstream"]:
        return upstream()
    if argv[:1] == ["ask"] and len(argv) >= 6:
        return ask(*argv[1:])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
