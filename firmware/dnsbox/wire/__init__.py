"""Pure DNS wire codec: no I/O, no clock. Runs on MicroPython 1.25 and CPython 3.11.

errors    WireError(offset, reason) - the only exception decoders let escape (ShortError, a
          subclass, when the data ends early); TextError(ValueError) for presentation form.
types     record type and class constants (A.., CLASS_IN..), type_/class_ to_text/from_text.
opcode    opcode constants (QUERY, NOTIFY, UPDATE..), to_text/from_text.
rcode     rcode constants incl. extended (BADVERS, BADCOOKIE) and TSIG (BADSIG..BADTRUNC).
name      Name (.wire, .lc, labels(), is_subdomain(), canonical_key(), ..), from_text,
          decode_name(buf, off), ROOT.
rdata     decode(rtype, buf, off, rdlen), from_text(rtype, text, origin); classes in
          rd_std, rd_sec, rd_svcb, rd_meta; Generic for any other type (RFC 3597).
rr        RR(name, rtype, rclass, ttl, rdata), Question(name, qtype, qclass).
edns      Edns(payload, version, do, ext_rcode, options) and option classes.
message   Message, decode(buf, partial=False), encode(msg, max_size), decode_question(buf).
"""
