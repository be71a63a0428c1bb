"""A multicast DNS responder for the tests (RFC 6762, the part the .local bridge uses): joins
224.0.0.251 on the given address's interface, answers A questions for its names by unicast to
the asker's port ("legacy unicast", RFC 6762 6.7: the query's ID and question, TTL 10), and
writes one line per question it received to the log file. Stops by itself after MAX_S.

  python3 mdns_responder.py IP LOGFILE NAME=ADDR [NAME=ADDR ...]
"""
import socket
import sys
import time

import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset

MAX_S = 120  # the longest a test may keep it running
GROUP = "224.0.0.251"


def main(argv):
    ip, logfile = argv[0], argv[1]
    names = dict(a.split("=", 1) for a in argv[2:])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", 5353))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 socket.inet_aton(GROUP) + socket.inet_aton(ip))
    s.settimeout(1)
    end = time.monotonic() + MAX_S
    with open(logfile, "a") as log:
        print("ready", flush=True)
        while time.monotonic() < end:
            try:
                data, src = s.recvfrom(9000)
            except socket.timeout:
                continue
            try:
                q = dns.message.from_wire(data)
            except Exception:
                continue
            if src[0] == ip or not q.question:
                continue  # our own answers looped back
            qn = q.question[0]
            log.write("%s %s rd=%d from=%s:%d\n" % (qn.name.to_text().lower(),
                      dns.rdatatype.to_text(qn.rdtype), bool(q.flags & dns.flags.RD),
                      src[0], src[1]))
            log.flush()
            addr = names.get(qn.name.to_text().lower())
            if addr is None or qn.rdtype != dns.rdatatype.A:
                continue  # mDNS: silence when the name is not ours
            r = dns.message.make_response(q)
            r.flags |= dns.flags.AA
            r.answer.append(dns.rrset.from_text(qn.name, 10, "IN", "A", addr))
            s.sendto(r.to_wire(), src)


if __name__ == "__main__":
    main(sys.argv[1:])
