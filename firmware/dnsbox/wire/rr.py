"""Resource records and questions (RFC 1035 4.1.2, 4.1.3): plain attribute holders."""

from dnsbox.wire import types as _types


class Question:
    def __init__(self, name, qtype, qclass=_types.CLASS_IN):
        self.name = name
        self.qtype = qtype
        self.qclass = qclass

    def __eq__(self, other):
        return (
            isinstance(other, Question)
            and self.name == other.name
            and self.qtype == other.qtype
            and self.qclass == other.qclass
        )

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((self.name, self.qtype, self.qclass))

    def to_text(self):
        return "%s %s %s" % (
            self.name.to_text(),
            _types.class_to_text(self.qclass),
            _types.type_to_text(self.qtype),
        )

    def __repr__(self):
        return "<Question %s>" % self.to_text()


class RR:
    def __init__(self, name, rtype, rclass, ttl, rdata):
        self.name = name
        self.rtype = rtype
        self.rclass = rclass
        self.ttl = ttl
        self.rdata = rdata

    def __eq__(self, other):
        return (
            isinstance(other, RR)
            and self.name == other.name
            and self.rtype == other.rtype
            and self.rclass == other.rclass
            and self.ttl == other.ttl
            and self.rdata == other.rdata
        )

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((self.name, self.rtype, self.rclass, self.ttl))

    def to_text(self):
        """Master-file line: owner TTL class type rdata."""
        return "%s %d %s %s %s" % (
            self.name.to_text(),
            self.ttl,
            _types.class_to_text(self.rclass),
            _types.type_to_text(self.rtype),
            self.rdata.to_text(),
        )

    def __repr__(self):
        return "<RR %s>" % self.to_text()
