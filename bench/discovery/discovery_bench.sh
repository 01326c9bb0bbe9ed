#!/usr/bin/env bash
# Discovery under dnsperf, with Knot DNS beside it (docs/benchmarks.md,
# "Discovery (DNS)"). 10,000 services in a SQLite store; `lastbackend
# discovery` serves them, Knot serves the same records from zone files. Each
# server has core 1 to itself while it is measured (taskset); dnsperf runs on
# core 0. The query mix (lb_bench_dns_populate): 60% A, 15% SRV, 15%
# NXDOMAIN, 10% outside names, which discovery forwards to Knot once and
# then answers from its cache. Loopback only.
#   bench/discovery/discovery_bench.sh BUILD_DIR [seconds=10]
# Prints "name: value unit" lines. LB_BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail
BUILD=$(cd "${1:?usage: discovery_bench.sh BUILD_DIR [seconds]}" && pwd)
SECS=${2:-10}
SERVICES=${LB_BENCH_SERVICES:-10000}
for t in knotd:/usr/sbin/knotd dnsperf:/usr/bin/dnsperf kdig:/usr/bin/kdig; do
  [[ -x ${t#*:} ]] || { echo "discovery_bench: ${t%%:*} missing (apt-get install knot dnsperf knot-dnsutils)" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/lb-dns-bench.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  [[ -n ${LB_BENCH_KEEP:-} ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

"$BUILD/bench/discovery/lb_bench_dns_populate" --db "$WORK/lb.db" --out "$WORK" --services "$SERVICES" >&2
KNOT_PORT=$(free_port)
DNS_PORT=$(free_port)

cat >"$WORK/knot.conf" <<YML
server:
  listen: 127.0.0.1@$KNOT_PORT
  rundir: $WORK
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
control:
  listen: $WORK/knot.sock
database:
  storage: $WORK
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: $WORK
    semantic-checks: off
zone:
  - domain: lb.local
    file: $WORK/lb.local.zone
  - domain: 96.10.in-addr.arpa
    file: $WORK/96.10.in-addr.arpa.zone
  - domain: example.test
    file: $WORK/example.test.zone
YML
taskset -c 1 /usr/sbin/knotd -c "$WORK/knot.conf" >"$WORK/knot.log" 2>&1 &
KNOT=$!
PIDS+=("$KNOT")
start_discovery() {
  taskset -c 1 "$BUILD/src/exe/lastbackend" discovery --storage sqlite --sqlite-path "$WORK/lb.db" \
    --bind-address 127.0.0.1 --bind-port "$DNS_PORT" --network-resolvers "127.0.0.1:$KNOT_PORT" \
    --domain-internal lb.local >"$WORK/discovery.log" 2>&1 &
  DISC=$!
  PIDS+=("$DISC")
}
start_discovery
last="svc$(((SERVICES - 1) % 100)).ns$(((SERVICES - 1) / 100)).lb.local"
ask() { kdig @127.0.0.1 -p "$1" +short +timeout=1 +retry=0 "${@:2}" 2>/dev/null; }
for _ in $(seq 100); do
  [[ -n $(ask "$DNS_PORT" "$last" A) && -n $(ask "$KNOT_PORT" "$last" A) ]] && break
  sleep 0.1
done
# Both answer the same, before anything is measured.
for q in "svc1.ns0.lb.local A" "_80._tcp.svc1.ns0.lb.local SRV" "-x 10.96.0.1" "host-1.example.test A"; do
  # shellcheck disable=SC2086
  a=$(ask "$DNS_PORT" $q | sort); b=$(ask "$KNOT_PORT" $q | sort)
  [[ -n $a && $a == "$b" ]] || { echo "discovery_bench: '$q': discovery '$a', knot '$b'" >&2; exit 1; }
done
nx=$(kdig @127.0.0.1 -p "$DNS_PORT" +timeout=1 missing1.ns0.lb.local A | grep -c NXDOMAIN || true)
((nx > 0)) || { echo "discovery_bench: missing1.ns0.lb.local is not NXDOMAIN" >&2; exit 1; }
echo "discovery_rss_10k_loaded: $(rss_mb "$DISC") MB"

# max QPS: dnsperf on core 0 with 200 queries in flight. One dnsperf thread
# tops out near the servers' rate, so the server's CPU time is read too:
# queries answered per second of its CPU is what one core of it can serve.
TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
max_qps() {  # port pid -> "qps per-core-qps"
  local t0 t1 out
  t0=$(cpu_ticks "$2")
  out=$(taskset -c 0 dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/queries" -l "$SECS" -c 4 -T 1 -q 200 2>&1)
  t1=$(cpu_ticks "$2")
  echo "$out" >>"$WORK/dnsperf.log"
  echo "$out" | awk -v ticks=$((t1 - t0)) -v tck="$TCK" '
    /Queries completed/ {done = $3} /Queries per second/ {qps = $4}
    END {printf "%d %d", qps, ticks ? done / (ticks / tck) : 0}'
}
# p50/p99 (ms) at a fixed rate, from dnsperf's per-query latencies (to a
# file first: nothing else runs on the server's core while it is measured).
latency() {  # port qps
  taskset -c 0 dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/queries" -l 5 -c 4 -T 1 -Q "$2" -v \
    >"$WORK/latency.log" 2>/dev/null
  awk '/^> / {print $NF * 1000}' "$WORK/latency.log" | sort -n |
    awk '{v[NR] = $1} END {if (NR) printf "%.3f %.3f %d", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1], NR}'
}
lost() { awk '/Queries lost/ {print $3}' "$WORK/dnsperf.log" | tail -1; }

# Warm discovery's cache of outside names, then measure it with Knot idle
# (Knot only answers the cache misses, none after the warm-up).
taskset -c 0 dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$WORK/queries" -l 2 -c 4 -T 1 -q 50 >/dev/null 2>&1
read -r D_QPS D_CORE <<<"$(max_qps "$DNS_PORT" "$DISC")"
D_LOST=$(lost)
read -r D_P50 D_P99 D_N <<<"$(latency "$DNS_PORT" $((D_QPS / 2)))"
D_RSS=$(rss_mb "$DISC")
kill -STOP "$DISC"
read -r K_QPS K_CORE <<<"$(max_qps "$KNOT_PORT" "$KNOT")"
read -r K_P50 K_P99 K_N <<<"$(latency "$KNOT_PORT" $((K_QPS / 2)))"
K_RSS=$(rss_mb "$KNOT")
kill -CONT "$DISC"

echo "discovery_services: $SERVICES services"
echo "discovery_qps: $D_QPS qps"
echo "discovery_queries_lost: ${D_LOST:-0}"
echo "knot_qps: $K_QPS qps"
echo "discovery_qps_per_core: $D_CORE qps"
echo "knot_qps_per_core: $K_CORE qps"
echo "discovery_vs_knot: $(awk -v a="$D_CORE" -v b="$K_CORE" 'BEGIN {printf "%.2f", a / b}') ratio (per core)"
echo "discovery_p50_at_half: $D_P50 ms ($D_N queries at $((D_QPS / 2)) qps)"
echo "discovery_p99_at_half: $D_P99 ms"
echo "knot_p50_at_half: $K_P50 ms ($K_N queries at $((K_QPS / 2)) qps)"
echo "knot_p99_at_half: $K_P99 ms"
echo "discovery_rss_10k: $D_RSS MB"
echo "knot_rss: $K_RSS MB"
