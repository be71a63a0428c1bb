"""Settings of the client mode (domain=, type=; server= and port= are shared)."""
from dnsbox.config.nets import domain_wire


def _set_domain(cfg, value):
    try:
        domain_wire(value)
    except ValueError as e:
        return str(e)
    cfg.domain = value
    return ""


def _set_type(cfg, value):
    from dnsbox.wire import types as _t
    from dnsbox.wire.errors import TextError

    try:
        _t.type_from_text(value)
    except TextError as e:
        return str(e)
    cfg.qtype = value.upper()
    return ""


SETTINGS = {
    "domain": (_set_domain, False, False),
    "type": (_set_type, False, False),
}
LISTS = {}
