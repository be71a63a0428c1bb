#!/usr/bin/env bash
# Cached-answer throughput of caching forwarders in front of the same upstream, on loopback:
# the dnsbox host firmware (build/host/dnsbox, resolver mode) vs dnsmasq and Unbound.
#
#   tools/bench_forward.sh [SECONDS] [RUNS] [SERVERS...]     (default: 10 1 dnsbox dnsmasq unbound)
#
# Upstream: NSD serving the bench kit's zones (../shared/bench/data: bench.test and its four
# child zones, 10,000 queries of which 7,583 distinct). Every forwarder: one worker, pinned to
# CPU 0 (SRV_CPU), cache of 20,000 entries, forwarding bench.test to NSD only. Each is started in
# the foreground, warmed with two passes of the query file (fills the cache), then measured with
#   taskset -c 1 dnsperf -s 127.0.0.1 -p PORT -d queries.txt -c 1 -T 1 -q 100 -t 2 -l SECONDS
# and stopped by its PID. Printed per server: qps, lost, server CPU µs per answered query (less
# sensitive than qps to other load on this shared machine), NSD CPU ticks during the run (~0 means
# the cache answered), RSS. Only loopback traffic; every load run is bounded by -l.
# Needs: dnsperf nsd dnsmasq unbound (apt-get install dnsperf nsd dnsmasq unbound).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_RUN=${1:-10}
RUNS=${2:-1}
shift $(($# > 2 ? 2 : $#)) || true
SERVERS=("$@")
[ ${#SERVERS[@]} -gt 0 ] || SERVERS=(dnsbox dnsmasq unbound)
DATA=${BENCH_DATA:-$ROOT/../shared/bench/data}
B=${DNSBOX_BUILD:-$ROOT/build}
W=$B/bench-forward
SRV_CPU=${SRV_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
OUTSTANDING=${DP_OUTSTANDING:-100}
# Extra dnsperf flags for the measured runs, e.g. DP_EXTRA=-e (queries with EDNS, as most stub
# resolvers and dig send them) or DP_EXTRA=-D (EDNS with the DO bit).
read -r -a DP_EXTRA_ARGS <<<"${DP_EXTRA:-}"
CACHE=20000
MPY_HEAP=${MPY_HEAP:-32M}
BPORT=5330
declare -A PORT=([dnsbox]=5331 [dnsmasq]=5332 [unbound]=5333)
HZ=$(getconf CLK_TCK)

for f in bench.test.zone dlg0.bench.test.zone queries.txt; do
    [ -f "$DATA/$f" ] || { echo "bench data $DATA/$f missing (BENCH_DATA=dir)"; exit 2; }
done
for c in dnsperf nsd dnsmasq unbound dig taskset; do
    command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] || { echo "$c missing"; exit 2; }
done
[ -x "$B/host/dnsbox" ] || { echo "$B/host/dnsbox missing: run ./build.sh"; exit 2; }
rm -rf "$W"
mkdir -p "$W"
PIDS=()
stop_all() {
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$p" 2>/dev/null || true; done
}
trap stop_all EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

wait_ready() { # PORT PID
    local i
    for i in $(seq 100); do
        if dig +short +tries=1 +time=1 +noedns -p "$1" @127.0.0.1 h0000.bench.test A 2>/dev/null |
            grep -q '^[0-9]'; then return 0; fi
        kill -0 "$2" 2>/dev/null || { echo "server died"; tail -20 "$W"/*.log; exit 1; }
        sleep 0.2
    done
    echo "server on port $1 not ready"
    exit 1
}

# ---------------------------------------------------------------- the upstream: NSD
mkdir -p "$W/nsd"
ZONEARGS=(-z "bench.test=$DATA/bench.test.zone")
for i in 0 1 2 3; do ZONEARGS+=(-z "dlg$i.bench.test=$DATA/dlg$i.bench.test.zone"); done
python3 "$ROOT/tools/nsdconf.py" "$W/nsd" 127.0.0.1 "$BPORT" "${ZONEARGS[@]}" \
    -o "minimal-responses: yes" >"$W/nsd/nsd.conf"
taskset -c "$GEN_CPU" nsd -d -c "$W/nsd/nsd.conf" >"$W/nsd.log" 2>&1 &
NSD_PID=$!
PIDS+=("$NSD_PID")
wait_ready $BPORT $NSD_PID

start_server() { # NAME -> SPID
    local name=$1 port=${PORT[$1]}
    case $name in
    dnsbox)
        taskset -c "$SRV_CPU" "$B/host/dnsbox" -X heapsize="$MPY_HEAP" -m dnsbox.main --host \
            port=$port mode=resolver dnssec=no server=/bench.test/127.0.0.1#$BPORT cache-size=$CACHE \
            >"$W/dnsbox.log" 2>&1 &
        ;;
    dnsmasq)
        taskset -c "$SRV_CPU" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
            --bind-interfaces --listen-address=127.0.0.1 --port=$port \
            --server=/bench.test/127.0.0.1#$BPORT --cache-size=$CACHE --cache-rr=MX,TXT,SOA,NS \
            --user=root --pid-file="$W/dnsmasq.pid" --log-facility="$W/dnsmasq-daemon.log" \
            >"$W/dnsmasq.log" 2>&1 &
        ;;
    unbound)
        cat >"$W/unbound.conf" <<EOF
server:
  interface: 127.0.0.1
  port: $port
  outgoing-interface: 127.0.0.1
  do-ip6: no
  num-threads: 1
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$W"
  pidfile: "$W/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  local-zone: "test." nodefault
  domain-insecure: "bench.test."
  module-config: "iterator"
  msg-cache-size: 64m
  rrset-cache-size: 128m
  prefetch: no
  minimal-responses: yes
remote-control:
  control-enable: no
forward-zone:
  name: "bench.test."
  forward-addr: 127.0.0.1@$BPORT
EOF
        taskset -c "$SRV_CPU" unbound -d -c "$W/unbound.conf" >"$W/unbound.log" 2>&1 &
        ;;
    *)
        echo "unknown server $name"
        exit 2
        ;;
    esac
    SPID=$!
    PIDS+=("$SPID")
}

printf '| server | qps | lost | server CPU µs/query | NSD ticks during run | RSS MiB |\n'
printf '|---|---:|---:|---:|---:|---:|\n'
for name in "${SERVERS[@]}"; do
    start_server "$name"
    port=${PORT[$name]}
    wait_ready "$port" "$SPID"
    for pass in 1 2; do # warm-up: fills the cache
        taskset -c "$GEN_CPU" dnsperf -s 127.0.0.1 -p "$port" -d "$DATA/queries.txt" -c 1 -T 1 \
            -q 20 -t 3 -n 1 >"$W/$name-warm$pass.txt" 2>&1 || true
    done
    for run in $(seq "$RUNS"); do
        c0=$(cpu_ticks "$SPID")
        n0=$(cpu_ticks "$NSD_PID")
        taskset -c "$GEN_CPU" dnsperf -s 127.0.0.1 -p "$port" -d "$DATA/queries.txt" -c 1 -T 1 \
            -q "$OUTSTANDING" -t 2 -l "$SECONDS_RUN" ${DP_EXTRA_ARGS[@]+"${DP_EXTRA_ARGS[@]}"} \
            >"$W/$name-run$run.txt" 2>&1 || true
        c1=$(cpu_ticks "$SPID")
        n1=$(cpu_ticks "$NSD_PID")
        qps=$(awk '/Queries per second/ {printf "%d", $4}' "$W/$name-run$run.txt")
        done_q=$(awk '/Queries completed/ {print $3}' "$W/$name-run$run.txt")
        lost=$(awk '/Queries lost/ {print $3}' "$W/$name-run$run.txt")
        us=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v n="${done_q:-0}" \
            'BEGIN { if (n > 0) printf "%.1f", c / hz * 1e6 / n; else print "-" }')
        rss=$(awk -v k="$(rss_kb "$SPID")" 'BEGIN { printf "%.1f", k / 1024 }')
        printf '| %s | %s | %s | %s | %d | %s |\n' "$name" "${qps:-0}" "${lost:-?}" "$us" \
            $((n1 - n0)) "$rss"
    done
    kill "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
done
echo
echo "dnsperf -c 1 -T 1 -q $OUTSTANDING -t 2 -l $SECONDS_RUN ${DP_EXTRA:-}, server on CPU $SRV_CPU, dnsperf and NSD on CPU $GEN_CPU;"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: compare µs/query)"
