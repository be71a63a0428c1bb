"""Settings of what the operator sees: the query log (log-queries, dnsmasq's flag), the counts of
every answer by rcode, query type and how it was made (extended-statistics, Unbound's name) and
the HTTP status pages (http-port=, http-allow=; dnsbox.net.watch)."""
from dnsbox.config import values as V

MAX_HTTP_ALLOW = 16  # networks in http-allow=

SETTINGS = {
    "log-queries": (V.flag("log_queries"), False, True),
    "extended-statistics": (V.flag("ext_stats"), False, True),
    "http-port": (V.port_or_off("http_port"), False, False),
    "http-allow": (V.net_list("http_allow", MAX_HTTP_ALLOW, True), False, False),
}
LISTS = {"http-allow": "http_allow"}
