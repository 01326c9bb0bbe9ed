#!/usr/bin/env bash
# lb_bench_idle: what an idle `lastbackend server` with one running pod costs:
# CPU over a quiet window, wake-ups (context switches of its threads) per
# second, RSS; dockerd's own figures beside it. All on a dockerd started in
# a network namespace made for the run (scripts/netns-dockerd.sh). Prints
# "name: value unit".
#
#   bench/idle/idle_bench.sh BUILD_DIR            (root; ~90 s)
#   LB_BENCH_IDLE_SECONDS=20 bench/idle/idle_bench.sh BUILD_DIR
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:?usage: idle_bench.sh BUILD_DIR}" && pwd)
NETNS=${LB_BENCH_NETNS:-lb-bench-idle}
source "$ROOT/bench/rig.sh" "$0"

SECS=${LB_BENCH_IDLE_SECONDS:-60}
IMAGE=lb/busybox:local
bench_setup idle
PORT=13967
# Context switches of every thread of a process: each is one wake-up of a thread.
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/_ctxt_switches/ {n += $2} END {print n + 0}'; }
# Per thread "tid comm switches", to name the threads that wake most.
per_thread() {
  local t
  for t in /proc/"$1"/task/*; do
    awk -v tid="${t##*/}" -v comm="$(cat "$t/comm" 2>/dev/null)" \
      '/_ctxt_switches/ {n += $2} END {print tid, comm, n + 0}' "$t/status" 2>/dev/null
  done
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

bench_server_config 13965
LB_DNS_BIND_ADDRESS=127.0.0.1 LB_DNS_PORT=15354 LB_NETWORK_RESOLVERS=none LB_NODE_NAME=bench "$BUILD/src/exe/lastbackend" server -c "$WORK/server.yml" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for ((i = 0; i < 100; i++)); do
  curl -fsS "http://127.0.0.1:$PORT/health" -o /dev/null 2>/dev/null && break
  sleep 0.1
done
cat >"$WORK/svc.yml" <<YML
kind: Namespace
version: v1
meta: {name: bench}
---
kind: Service
version: v1
meta: {name: web}
spec:
  replicas: 1
  template:
    containers:
      - name: httpd
        image: {name: $IMAGE}
        command: httpd -f -p 8080 -h /www
        probes:
          readiness: {tcp: {port: 8080}, period: 1}
YML
"$BUILD/src/exe/lb" namespace apply bench -f "$WORK/svc.yml" --wait --wait-timeout 60 >/dev/null ||
  { echo "the pod did not become ready"; tail "$WORK/server.log"; exit 1; }
sleep 5  # the rollout's last reports and probes settle
DOCKERD_PID=$(cat "$DIR/docker.pid")

c0=$(cpu_ms "$SERVER_PID"); w0=$(switches "$SERVER_PID"); d0=$(cpu_ms "$DOCKERD_PID")
dw0=$(switches "$DOCKERD_PID")
per_thread "$SERVER_PID" >"$WORK/threads0"
sleep "$SECS"
c1=$(cpu_ms "$SERVER_PID"); w1=$(switches "$SERVER_PID"); d1=$(cpu_ms "$DOCKERD_PID")
dw1=$(switches "$DOCKERD_PID")
per_thread "$SERVER_PID" >"$WORK/threads1"

pct() { awk -v ms="$1" -v s="$SECS" 'BEGIN {printf "%.3f", ms / (s * 10)}'; }
rate() { awk -v n="$1" -v s="$SECS" 'BEGIN {printf "%.1f", n / s}'; }
echo "idle_window: $SECS s"
echo "idle_server_cpu: $(pct $((c1 - c0))) % of a core"
echo "idle_server_wakeups: $(rate $((w1 - w0))) /s"
echo "idle_server_threads: $(ls /proc/"$SERVER_PID"/task | wc -l) threads"
echo "idle_server_rss: $(awk -v k="$(rss_kib "$SERVER_PID")" 'BEGIN {printf "%.1f", k / 1024}') MiB"
echo "idle_dockerd_cpu: $(pct $((d1 - d0))) % of a core"
echo "idle_dockerd_wakeups: $(rate $((dw1 - dw0))) /s"
# The threads that woke most over the window (for a profile; not a figure).
join <(sort "$WORK/threads0") <(sort "$WORK/threads1") |
  awk -v s="$SECS" '{d = $NF - $3; if (d > 0) printf "idle_thread_wakeups{tid=%s,name=%s}: %.1f /s\n", $1, $2, d / s}' |
  sort -t: -k2 -rn | head -n 8
