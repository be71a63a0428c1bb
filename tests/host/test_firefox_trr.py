"""Firefox (Debian's firefox-esr, headless) resolving through the appliance's DNS over HTTPS
(HTTP/2) in TRR-only mode (network.trr.mode=3: no fallback to the system resolver), loading a
page from a local HTTP server whose name only the appliance knows.

The host firmware runs in resolver mode with https-port=, the name page.dnsbox.lan as a
host-record= pointing at 127.0.0.1, and its only upstream a dead loopback port (every other
name Firefox asks, its own services included, is SERVFAIL: nothing leaves loopback). A fresh
profile trusts the build's certificate (build/tls/dnsbox.crt, added with NSS certutil) and
names the DoH server https://dnsbox:PORT/dns-query (the name every build's certificate
carries) with network.trr.bootstrapAddr=127.0.0.1. `firefox --screenshot URL` loads the page;
the HTTP server records the request and its Host header. A name the appliance does not know is
not loaded (the page request never comes). Each Firefox run is bounded (FIREFOX_TIMEOUT_S) and
its process group ended by its ID."""
import http.server
import os
import shutil
import signal
import subprocess
import tempfile
import threading

import pytest

from ports import free_port
from tests.host.test_forwarder import BUILD, Resolver

CERT = os.path.join(BUILD, "tls", "dnsbox.crt")
FIREFOX_TIMEOUT_S = 60  # one headless page load, start-up included
NO_PAGE_S = 20  # a name that does not resolve: Firefox waits; the page has not come by then
NAME = "page.dnsbox.lan"
MARKER = b"dnsbox-trr-marker"

PREFS = {
    "network.trr.mode": 3,  # TRR only: DoH or nothing
    "network.trr.confirmationNS": "skip",
    "network.trr.allow-rfc1918": True,  # the answer is 127.0.0.1
    "network.trr.bootstrapAddr": "127.0.0.1",
    "network.trr.max-fails": 100,
    "network.proxy.type": 0,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "app.update.auto": False,
    "app.update.enabled": False,
    "browser.aboutwelcome.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "extensions.update.enabled": False,
    "geo.enabled": False,
    "toolkit.telemetry.enabled": False,
    "services.settings.server": "http://127.0.0.1:1/",
}


class _Page(http.server.BaseHTTPRequestHandler):
    seen = []  # (path, Host header)

    def do_GET(self):
        _Page.seen.append((self.path, self.headers.get("Host")))
        body = b"<html><body><h1>" + MARKER + b"</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def setup():
    assert shutil.which("firefox-esr"), "firefox-esr is needed (apt-get install firefox-esr; " \
        "./build.sh installs it)"
    assert shutil.which("certutil"), "certutil is needed (apt-get install libnss3-tools)"
    assert os.path.exists(CERT), "%s missing: run ./build.sh" % CERT
    https = free_port()
    dead = free_port()  # nothing listens there: every forwarded name is SERVFAIL
    box = Resolver(["mode=resolver", "dnssec=no", "https-port=%d" % https,
                    "server=127.0.0.1#%d" % dead, "host-record=%s,127.0.0.1" % NAME,
                    "log-queries"])
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    t = threading.Thread(target=web.serve_forever, daemon=True)
    t.start()
    with tempfile.TemporaryDirectory() as d:
        try:
            yield d, https, web.server_address[1], box
        finally:
            web.shutdown()
            box.stop()


def _profile(d, https):
    prof = tempfile.mkdtemp(dir=d)
    prefs = dict(PREFS)
    prefs["network.trr.uri"] = "https://dnsbox:%d/dns-query" % https
    prefs["network.trr.custom_uri"] = prefs["network.trr.uri"]
    with open(os.path.join(prof, "user.js"), "w") as f:
        for k, v in prefs.items():
            f.write("user_pref(%s, %s);\n" % (_js(k), _js(v)))
    for args in (["-N", "--empty-password"], ["-A", "-n", "dnsbox", "-t", "C,,", "-i", CERT]):
        subprocess.run(["certutil", "-d", "sql:" + prof] + args, check=True,
                       capture_output=True, timeout=30)
    return prof


def _js(v):
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return '"%s"' % v


def _firefox(d, prof, url, limit=FIREFOX_TIMEOUT_S):
    """Run one headless screenshot of url; (exit code or None when it ran out of time, the
    screenshot's size in bytes)."""
    shot = os.path.join(prof, "shot.png")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["HOME"] = d
    env["MOZ_HEADLESS"] = "1"
    p = subprocess.Popen(["firefox-esr", "--headless", "--no-remote", "--profile", prof,
                          "--screenshot", shot, url], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        rc = p.wait(limit)
    except subprocess.TimeoutExpired:
        rc = None
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)  # its group: the content processes it started
        except ProcessLookupError:
            pass
        p.wait(10)
    return rc, os.path.getsize(shot) if os.path.exists(shot) else 0


def test_page_loads_by_a_name_only_the_appliance_knows(setup):
    d, https, web_port, box = setup
    before = len(_Page.seen)
    rc, size = _firefox(d, _profile(d, https), "http://%s:%d/" % (NAME, web_port))
    got = _Page.seen[before:]
    assert ("/", "%s:%d" % (NAME, web_port)) in got, (rc, got, box.lines[-5:])
    assert rc == 0 and size > 0
    assert any("query" in x and NAME + ". A" in x for x in box.lines), box.lines[-10:]


def test_a_name_the_appliance_does_not_know_is_not_loaded(setup):
    d, https, web_port, box = setup
    before = len(_Page.seen)
    _firefox(d, _profile(d, https), "http://nothere.dnsbox.lan:%d/" % web_port, NO_PAGE_S)
    assert any("query" in x and "nothere.dnsbox.lan." in x for x in box.lines), box.lines[-9:]
    assert _Page.seen[before:] == []  # no fallback to the system resolver (TRR mode 3)
