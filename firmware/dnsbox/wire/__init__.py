"""Pure DNS wire codec: no I/O, no clock. Runs on MicroPython 1.25 and CPython 3.11.

errors    WireError(offset, reason) - the only exception decoders let escape (ShortError, a
          subclass, when the data ends early); TextError(ValueError) for presentation form.
types     record type and class constants (A.., CLASS_IN..), type_/class_ to_text/from_text.
opcode    opcode constants (QUERY, NOTIFY, UPDATE..), to_text/from_text.
rcode     rcode constants incl. extended (BADVERS, BADCOOKIE) and TSIG (BADSIG..BADTRUNC).
name      Name (.wire, .lc, labels(), is_subdomain(), canonical_key(), ..), from_text,
          from_labels, decode_name(buf, off), ROOT.
rdata     decode(rtype, buf, off, rdlen), from_text(rtype, text, origin), CLASSES; the classes
          live in rd_std, rd_sec, rd_svcb, rd_meta, rd_info, rd_loc, rd_key (base: rdbase;
          rdfields: rdata described by a layout of fields); Generic for any other type
          (RFC 3597). text: the presentation-format helpers they share.
rr        RR(name, rtype, rclass, ttl, rdata), Question(name, qtype, qclass).
edns      Edns(payload, version, do, ext_rcode, options, flags) and the option classes.
message   Message, make_response, decode(buf, partial=False), encode (from encoder),
          decode_question(buf) -> Peek, encode_query.

MicroPython cost rules followed on the hot paths (measured on the unix port, see
tools/bench_wire.py), in case you change them:
- a function whose locals + value stack + 2 x try-blocks exceed 11 words gets its frame
  allocated on the heap (py/objfun.c VM_MAX_STATE_ON_STACK): about 10x the cost of the call.
  A `for` loop takes 4 stack words, `except E as e` doubles the handler cost, a call takes
  1 word per argument (+1 for a method). Check with `micropython -v -v file.py` (N_STATE,
  N_EXC_STACK);
- allocations bigger than one GC block (tuples > 2 items, instances with > 2 attributes,
  class calls with > 3 arguments) search the heap for free runs: keep them off the per-query
  path (class-level defaults for attributes that rarely change; object.__new__ then attribute
  stores instead of 5-argument constructors).
"""
