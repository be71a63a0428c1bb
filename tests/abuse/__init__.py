"""The abuse suite (CPython only, like tests/host): dnsbox as it runs (the frozen host binary;
the firmware source under CPython where a test needs another zone) under hostile traffic, each
case checked against what NSD, Knot or Unbound do with the same input.

  test_malformed       every kind of malformed query the codec rejects, UDP and TCP, both modes
  test_tcp_framing     byte by byte, zero length, huge length, half-closed, reset
  test_amplification   bytes out / bytes in for every name and type, ANY (RFC 8482)
  test_open_resolver   the resolver from an outside address (network namespaces)
  test_poisoning       spoofed and injected answers, recursing and forwarding
  test_limits          NXNS, CNAME chains, referral loops, NS cycle: upstream queries counted
  test_dead_upstream   upstreams that never answer (UDP silence, TCP stalls)
Helpers: refs (the servers), raw (bytes on the wire), evilnet (a hostile mini-Internet),
upstreams (fake upstreams), nsrun (run inside a namespace).
"""
