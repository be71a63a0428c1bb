"""Serve-expired (RFC 8767) and prefetch: the cache keeps expired entries, the driver answers
from them with TTL 30 and EDE 3 when every upstream fails, up to serve-expired-ttl; the client
timer; a hit in the last tenth of an entry's life refreshes it once. Injected clock, scripted
upstream answers (the forwarder's), no sockets."""
from dnsbox import config
from dnsbox.resolver import driver as D
from dnsbox.resolver import forward as F
from dnsbox.resolver.cache import MAX_WANTED, Cache
from dnsbox.wire import edns as E
from dnsbox.wire import message as M
from dnsbox.wire import rcode as RC
from tests.unit.test_cache import image, ttls_of
from tests.unit.test_resolver import A, UP1, ask, fwd, reply, take

NAME = "www.example.org."
LONG_WAIT = "serve-expired-client-timeout=10000"  # the client timer never ends the wait first
FAIL_MS = 4 * F.ATTEMPT_MS  # the forwarder's four asks (two upstreams, two tries each)


def _cached(f, name=NAME, ttl=10, now=0, addr=(192, 0, 2, 80)):
    """Resolve name once (answered by UP1 with one A record of ttl seconds) so it is cached."""
    assert ask(f, name, now=now) is None
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, [A(name, ttl, addr)]), UP1, now)
    assert len(take(f, "answer")) == 1
    f.actions = []


def _fail_all(f, start):
    """Let every ask in flight time out (no upstream answers): the driver's clock from start."""
    for t in range(start, start + FAIL_MS + 1, F.ATTEMPT_MS):
        f.tick(t)
    take(f, "send")
    take(f, "done")


def _ede(m):
    o = None if m.edns is None else m.edns.option(E.EDE)
    return None if o is None else o.info_code


# --- the cache ------------------------------------------------------------------------------
def test_cache_keeps_expired_entries_for_the_stale_window_only():
    c = Cache(10, None, 5)
    key, img, pairs = image(ttls=(300, 60))
    assert c.put(key, img, pairs, 60, 1000)
    assert c.stale(key, 60999, 30) is None  # still fresh: not stale data
    assert c.get(key, 61000) is None and len(c) == 1  # expired: a miss, but kept
    got = c.stale(key, 61000, 30)
    assert got is not None and ttls_of(got[0]) == [30, 30] and got[1] is False
    assert ttls_of(c.stale(key, 65999, 0)[0]) == [0, 0]
    assert c.stale(key, 66000, 30) is None  # 5 s past expiry: too old
    assert c.get(key, 66000) is None and len(c) == 0  # and removed on the next look


def test_cache_without_serve_expired_removes_expired_entries():
    c = Cache(10)
    key, img, pairs = image()
    c.put(key, img, pairs, 60, 0)
    assert c.get(key, 60000) is None and len(c) == 0
    assert c.stale(key, 60000, 30) is None


def test_expired_entries_are_evicted_first():
    key1, img1, pairs1 = image("a.example.")
    key2, img2, pairs2 = image("b.example.")
    key3, img3, pairs3 = image("c.example.")
    key4, img4, pairs4 = image("d.example.")
    c = Cache(3, None, 3600)
    c.put(key1, img1, pairs1, 300, 0)  # long-lived, least recently used
    c.put(key2, img2, pairs2, 300, 0)
    c.put(key3, img3, pairs3, 10, 0)  # the most recently used, expired at 10 s
    c.put(key4, img4, pairs4, 300, 20000)  # full: the expired one goes, not the LRU
    assert c.lru_keys() == [key1, key2, key4]
    # without serve-expired the least recently used goes, expired or not
    c = Cache(3)
    c.put(key1, img1, pairs1, 300, 0)
    c.put(key2, img2, pairs2, 300, 0)
    c.put(key3, img3, pairs3, 10, 0)
    c.put(key4, img4, pairs4, 300, 20000)
    assert c.lru_keys() == [key2, key3, key4]


def test_an_expired_entry_looked_up_moves_to_the_lru_end():
    key1, img1, pairs1 = image("a.example.")
    key2, img2, pairs2 = image("b.example.")
    c = Cache(10, None, 3600)
    c.put(key1, img1, pairs1, 300, 0)
    c.put(key2, img2, pairs2, 10, 0)
    assert c.lru_keys() == [key1, key2]
    assert c.get(key2, 10000) is None
    assert c.lru_keys() == [key2, key1]
    assert c.relieve(2) > 0 and c.lru_keys() == [key1]  # pressure: the expired one went


def test_prefetch_is_asked_once_in_the_last_tenth():
    c = Cache(10, None, 0, True)
    key, img, pairs = image(ttls=(100,))
    c.put(key, img, pairs, 100, 0)
    assert c.get(key, 89999) is not None and c.wanted == []
    assert c.get(key, 90000) is not None and c.wanted == [key]  # answered and asked for
    assert c.get(key, 95000) is not None and c.wanted == [key]  # once
    c.wanted = []
    c.put(key, img, pairs, 100, 95000)  # the refresh stored anew: asked again in its last tenth
    assert c.get(key, 185000) is not None and c.wanted == [key]


def test_prefetch_off_asks_nothing_and_the_queue_is_bounded():
    c = Cache(10)
    key, img, pairs = image(ttls=(100,))
    c.put(key, img, pairs, 100, 0)
    assert c.get(key, 99999) is not None and c.wanted == []
    c = Cache(MAX_WANTED + 10, None, 0, True)
    for i in range(MAX_WANTED + 10):
        key, img, pairs = image("n%d.example." % i, ttls=(10,))
        c.put(key, img, pairs, 10, 0)
        c.get(key, 9500)
    assert len(c.wanted) == MAX_WANTED


# --- the driver: answers from expired entries -------------------------------------------------
def test_stale_answer_with_ttl_30_and_ede_3_when_every_upstream_fails():
    f = fwd("serve-expired=yes", LONG_WAIT)
    _cached(f, ttl=10)
    assert ask(f, NAME, now=10000, edns=E.Edns(1232), client="e") is None  # expired: resolve
    assert len(take(f, "send")) == 1
    assert ask(f, NAME, now=10001, client="p") is None  # a client without EDNS joins
    _fail_all(f, 10000)
    ans = take(f, "answer")
    assert sorted(a[1] for a in ans) == ["e", "p"]
    for a in ans:
        m = M.decode(a[3])
        assert m.rcode == RC.NOERROR and m.id == 0x1234
        assert [r.to_text() for r in m.answer] == [NAME + " 30 IN A 192.0.2.80"]
        if a[1] == "e":
            assert _ede(m) == E.EDE_STALE
        else:
            assert m.edns is None  # no EDNS asked, none given
    assert f.counters()["stale"] == 2


def test_servfail_without_serve_expired():
    f = fwd(LONG_WAIT)
    _cached(f, ttl=10)
    ask(f, NAME, now=10000, edns=E.Edns(1232))
    _fail_all(f, 10000)
    m = M.decode(take(f, "answer")[0][3])
    assert m.rcode == RC.SERVFAIL and _ede(m) == E.EDE_NO_REACHABLE_AUTHORITY
    assert f.counters()["stale"] == 0


def test_upstream_servfail_and_refused_also_give_the_stale_answer():
    f = fwd("serve-expired=yes", LONG_WAIT)
    _cached(f, ttl=10)
    ask(f, NAME, now=10000, edns=E.Edns(1232))
    for i in range(F.MAX_ATTEMPTS):
        s = take(f, "send")
        if not s:
            break
        rc = RC.SERVFAIL if i % 2 else RC.REFUSED
        f.upstream_reply(s[0][1], reply(s[0], rcode=rc), (s[0][2], s[0][3]), 10000 + i)
    m = M.decode(take(f, "answer")[0][3])
    assert m.rcode == RC.NOERROR and _ede(m) == E.EDE_STALE and m.answer[0].ttl == 30


def test_no_stale_answer_past_serve_expired_ttl():
    f = fwd("serve-expired=yes", "serve-expired-ttl=60", LONG_WAIT)
    _cached(f, ttl=10)
    ask(f, NAME, now=65000)  # the failure comes 59 s past expiry: still served
    _fail_all(f, 65000)
    assert M.decode(take(f, "answer")[0][3]).answer[0].ttl == 30
    ask(f, NAME, now=80000)  # 70 s past expiry: gone
    _fail_all(f, 80000)
    m = M.decode(take(f, "answer")[0][3])
    assert m.rcode == RC.SERVFAIL and len(f.cache) == 0


def test_reply_ttl_is_a_setting():
    f = fwd("serve-expired=yes", "serve-expired-reply-ttl=7", LONG_WAIT)
    _cached(f, ttl=10)
    ask(f, NAME, now=20000)
    _fail_all(f, 20000)
    assert M.decode(take(f, "answer")[0][3]).answer[0].ttl == 7


def test_remembered_failure_answers_stale_at_once():
    f = fwd("serve-expired=yes", LONG_WAIT)
    _cached(f, ttl=10)
    ask(f, NAME, now=10000)
    _fail_all(f, 10000)
    take(f, "answer")
    t = 10000 + FAIL_MS  # the failure is remembered FAIL_TTL_S from here (RFC 9520)
    r = ask(f, NAME, now=t + 1, edns=E.Edns(1232))
    assert r is not None and take(f, "send") == []  # no new ask: the recheck timer runs
    m = M.decode(r)
    assert m.rcode == RC.NOERROR and _ede(m) == E.EDE_STALE


def test_client_timer_answers_stale_and_the_resolution_refreshes_the_cache():
    f = fwd("serve-expired=yes")  # client timeout 1800 ms (Unbound's default)
    _cached(f, ttl=10)
    assert ask(f, NAME, now=10000, edns=E.Edns(1232), client="e") is None
    s = take(f, "send")
    f.tick(11799)
    assert take(f, "answer") == []
    f.tick(11800)
    ans = take(f, "answer")
    assert [a[1] for a in ans] == ["e"] and _ede(M.decode(ans[0][3])) == E.EDE_STALE
    s2 = take(f, "send")  # the second try (after ATTEMPT_MS) still went out
    assert len(s) == 1 and len(s2) == 1 and f.inflight
    r = ask(f, NAME, now=11900, client="late")  # after the timer: the stale answer at once
    assert r is not None and M.decode(r).answer[0].ttl == 30
    f.upstream_reply(s2[0][1], reply(s2[0], [A(NAME, 300, (192, 0, 2, 99))]), UP1, 12000)
    assert take(f, "answer") == []  # nobody waits any more
    m = M.decode(ask(f, NAME, now=12000))
    assert [r.to_text() for r in m.answer] == [NAME + " 300 IN A 192.0.2.99"]


def test_client_timeout_zero_answers_stale_at_once_and_refreshes_in_the_background():
    f = fwd("serve-expired=yes", "serve-expired-client-timeout=0")
    _cached(f, ttl=10)
    r = ask(f, NAME, now=10000)
    assert r is not None and M.decode(r).answer[0].ttl == 30
    s = take(f, "send")
    assert len(s) == 1
    assert ask(f, NAME, now=10001) is not None and take(f, "send") == []  # one refresh
    f.upstream_reply(s[0][1], reply(s[0], [A(NAME, 300, (192, 0, 2, 99))]), UP1, 10005)
    assert take(f, "answer") == []
    assert M.decode(ask(f, NAME, now=10010)).answer[0].ttl == 300


# --- prefetch -----------------------------------------------------------------------------------
def test_prefetch_asks_upstream_once_in_the_last_tenth_of_the_ttl():
    f = fwd("prefetch=yes")
    _cached(f, ttl=100)
    assert ask(f, NAME, now=89999) is not None
    f.tick(89999)
    assert take(f, "send") == [] and f.next_deadline() == -1
    r = ask(f, NAME, now=90000)  # answered from the cache ...
    assert r is not None and M.decode(r).answer[0].ttl == 10
    assert f.next_deadline() == 0  # ... and a refresh is due at once
    f.tick(90000)
    s = take(f, "send")
    assert len(s) == 1 and f.counters()["prefetch"] == 1
    assert ask(f, NAME, now=90500) is not None  # hits meanwhile: no second refresh
    f.tick(90500)
    assert take(f, "send") == []
    f.upstream_reply(s[0][1], reply(s[0], [A(NAME, 100, (192, 0, 2, 7))]), UP1, 91005)
    assert take(f, "answer") == [] and not f.inflight and f.refreshing == 0
    m = M.decode(ask(f, NAME, now=95000))
    assert [r.to_text() for r in m.answer] == [NAME + " 97 IN A 192.0.2.7"]
    assert f.counters()["upstream"] == 2  # the first answer and the one prefetch


def test_prefetch_off_by_default():
    f = fwd()
    _cached(f, ttl=100)
    assert ask(f, NAME, now=95000) is not None
    f.tick(95000)
    assert take(f, "send") == [] and f.counters()["prefetch"] == 0


def test_prefetches_in_flight_are_bounded():
    f = fwd("prefetch=yes")
    n = D.MAX_REFRESH + 3
    for i in range(n):
        _cached(f, "n%d.example.org." % i, ttl=100)
    for i in range(n):
        assert ask(f, "n%d.example.org." % i, now=95000) is not None
    f.tick(95000)
    assert len(take(f, "send")) == D.MAX_REFRESH and f.refreshing == D.MAX_REFRESH
    assert f.counters()["refresh_dropped"] == 3


def test_failed_prefetch_leaves_the_entry_and_ends_cleanly():
    f = fwd("prefetch=yes")
    _cached(f, ttl=100)
    ask(f, NAME, now=95000)
    f.tick(95000)
    take(f, "send")
    _fail_all(f, 95000)
    assert take(f, "answer") == [] and not f.inflight and f.refreshing == 0 and not f.clients
    assert M.decode(ask(f, NAME, now=99000)).answer[0].ttl == 1  # the entry still serves


# --- settings -----------------------------------------------------------------------------------
def test_settings_and_their_errors():
    cfg = config.parse(["serve-expired=yes", "serve-expired-ttl=3600", "prefetch=yes",
                        "serve-expired-reply-ttl=0", "serve-expired-client-timeout=0"])
    assert cfg.problems == []
    assert (cfg.serve_expired, cfg.stale_ttl, cfg.stale_reply_ttl, cfg.stale_wait,
            cfg.prefetch) == (True, 3600, 0, 0, True)
    cfg = config.parse([])
    assert (cfg.serve_expired, cfg.stale_ttl, cfg.stale_reply_ttl, cfg.stale_wait,
            cfg.prefetch) == (False, 86400, 30, 1800, False)
    for word, why in (("serve-expired=maybe", "flag"), ("prefetch=2", "flag"),
                      ("serve-expired-ttl=0", "out of range"),
                      ("serve-expired-ttl=abc", "not a whole number"),
                      ("serve-expired-reply-ttl=-1", "not a whole number"),
                      ("serve-expired-client-timeout=20000", "out of range"),
                      ("serve-expired-ttl", "needs a value")):
        cfg = config.parse([word])
        assert len(cfg.problems) == 1 and why in cfg.problems[0].reason, (word, cfg.problems)
        assert word.split("=")[0] in str(cfg.problems[0])


def test_a_client_joining_a_prefetch_gets_the_client_timer():
    f = fwd("serve-expired=yes", "prefetch=yes")
    _cached(f, ttl=10)
    assert ask(f, NAME, now=9500) is not None  # hit in the last tenth: a prefetch
    f.tick(9500)
    assert len(take(f, "send")) == 1
    assert ask(f, NAME, now=10000, client="j") is None  # expired now: joins the prefetch
    f.tick(11799)
    assert take(f, "answer") == []
    f.tick(11800)  # 1800 ms after the client came
    ans = take(f, "answer")
    assert [a[1] for a in ans] == ["j"] and M.decode(ans[0][3]).answer[0].ttl == 30
