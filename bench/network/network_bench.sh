#!/usr/bin/env bash
# The cluster network on the multi-host rig (scripts/netns-hosts.sh, three
# simulated hosts, each a network namespace with its own dockerd; nothing
# leaves them). Prints "name: value unit" lines:
#
#   1. endpoint change in the store -> nftables rule on a node, p50/p99, with
#      100 and 1,000 services x 10 endpoints (lb_bench_endpoints on host 1);
#   2. requests/s through a service VIP against the same pods directly (wrk
#      in a pod on host 1, the service's two pods on host 2, each answered by
#      HAProxy in the pod's network namespace), ratio;
#   3. TCP throughput pod to pod across the overlay (host 1 -> host 2) against
#      two pods on the same host (iperf3 run in the pods' network namespaces),
#      ratio;
#   4. a third node joining -> the routes to its subnet on both others and
#      theirs on it, from the start of its agent.
#
#   bench/network/network_bench.sh [BUILD_DIR]    (root; about 3 minutes)
#
# LB_BENCH_PHASES=endpoints,cluster picks phases; LB_BENCH_SERVICES (default
# "100 1000") the endpoint counts.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
PHASES=${LB_BENCH_PHASES:-endpoints,cluster}
export LB_RIG_PREFIX=lb-nb
DIR=/run/lb-nb
RIGSH=$ROOT/scripts/netns-hosts.sh
LASTBACKEND=$BUILD/src/exe/lastbackend
LB_BIN=$BUILD/src/exe/lb
TOKEN=bench-network-token
PORT=2967
WORK=$(mktemp -d /tmp/lb-netbench.XXXXXX)
export HOME=$WORK/home
mkdir -p "$HOME"
PIDS=()

for tool in wrk iperf3 jq nsenter; do
  command -v "$tool" >/dev/null || { echo "network_bench: $tool is missing (scripts/setup.sh)"; exit 1; }
done
rigx() { local h=$1; shift; "$RIGSH" exec "$h" "$DIR" "$@"; }  # CMD inside host h
dk() { local h=$1; shift; rigx "$h" docker "$@"; }
lb() { "$LB_BIN" "$@"; }
eventually() {  # seconds command...
  local end=$((SECONDS + $1)); shift
  while ((SECONDS < end)); do "$@" && return 0; sleep 0.2; done
  "$@"
}
now_ms() { date +%s%3N; }
cleanup() {
  local p
  if [[ -n ${LB_BENCH_KEEP:-} ]]; then echo "kept: rig $LB_RIG_PREFIX in $DIR, pids ${PIDS[*]}, work $WORK"; return; fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for f in "$WORK"/haproxy.*.pid; do [[ -f $f ]] && kill "$(cat "$f")" 2>/dev/null; done
  "$RIGSH" down 3 "$DIR" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

"$RIGSH" up 3 "$DIR" >"$WORK/rig.log" 2>&1 || { tail "$WORK/rig.log"; exit 1; }

# --- 1. endpoint change -> rule programmed -------------------------------------------------
if [[ $PHASES == *endpoints* ]]; then
  for n in ${LB_BENCH_SERVICES:-100 1000}; do
    rigx 1 "$BUILD/bench/network/lb_bench_endpoints" --services "$n" --backends 10 --changes 200 ||
      echo "network_bench: lb_bench_endpoints --services $n failed"
  done
fi
[[ $PHASES == *cluster* ]] || exit 0

# --- the cluster: server on host 1, nodes on hosts 2 (and 3 later) -------------------------
API=http://198.18.0.1:$PORT
cat >"$WORK/server.yml" <<YML
token: $TOKEN
storage: {driver: sqlite, sqlite: {path: $WORK/lb.db}}
server: {host: 198.18.0.1, port: $PORT}
node: {server: {host: 198.18.0.1, port: 2965}}
workdir: $WORK/h1
container: {csi: {dir: {root: $WORK/h1/csi}}}
YML
# Each process runs by exec all the way down, so $! is its own pid.
(
  export LB_NODE_NAME=h1 LB_NODE_STOP_GRACE=1
  exec "$RIGSH" exec 1 "$DIR" "$LASTBACKEND" server -v 1 -c "$WORK/server.yml"
) >"$WORK/h1.log" 2>&1 &
PIDS+=($!)
start_node() {  # host
  (
    export LB_NODE_NAME=h$1 LB_NODE_STOP_GRACE=1
    exec "$RIGSH" exec "$1" "$DIR" "$LASTBACKEND" node -v 1 --api-uri "$API" \
      --access-token "$TOKEN" --workdir "$WORK/h$1" --container-storage-root "$WORK/h$1/csi"
  ) >"$WORK/h$1.log" 2>&1 &
  PIDS+=($!)
}
start_node 2
# `lb` and the api calls run on host 1 (the api listens there only); the
# server has configured `lb` (in $HOME).
lbx() { rigx 1 "$LB_BIN" "$@"; }
api() { rigx 1 curl -fsS -H "Authorization: Bearer $TOKEN" "$API$1"; }
eventually 30 rigx 1 curl -fsS "$API/health" -o /dev/null || { tail "$WORK/h1.log"; exit 1; }
eventually 10 lbx namespace create bench >/dev/null || exit 1
cat >"$WORK/app.yml" <<'YML'
kind: Service
version: v1
meta: {name: web}
spec:
  replicas: 2
  selector: {node: h2}
  network: {ports: ["80:8080/tcp"]}
  template:
    containers:
      - name: holder
        image: {name: lb/busybox:local}
        command: sleep 100000
---
kind: Service
version: v1
meta: {name: far}
spec:
  selector: {node: h1}
  template:
    containers:
      - name: sleeper
        image: {name: lb/busybox:local}
        command: sleep 100000
---
kind: Service
version: v1
meta: {name: near}
spec:
  selector: {node: h2}
  template:
    containers:
      - name: sleeper
        image: {name: lb/busybox:local}
        command: sleep 100000
YML
lbx namespace apply bench -f "$WORK/app.yml" --wait --wait-timeout 120 >/dev/null ||
  { echo "network_bench: apply failed"; tail -n 20 "$WORK/h1.log" "$WORK/h2.log"; exit 1; }

pod_ips() {  # host service
  local id
  for id in $(dk "$1" ps -q --filter "label=io.lastbackend.service=$2"); do
    dk "$1" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id"
  done
}
VIP=$(api /namespace/bench/service/web | jq -r '.status.ip // empty')
read -r -a WEB <<<"$(pod_ips 2 web | tr '\n' ' ')"
[[ -n $VIP && ${#WEB[@]} -eq 2 ]] || { echo "network_bench: no VIP ($VIP) or pods (${WEB[*]})"; exit 1; }
# The web pods' server: HAProxy answering every request itself, run in each
# pod's network namespace (busybox httpd forks per request: it would be
# measured instead of the network).
cat >"$WORK/haproxy.cfg" <<'CFG'
global
  maxconn 4096
defaults
  mode http
  timeout client 10s
  timeout server 10s
  timeout connect 2s
frontend web
  bind :8080
  http-request return status 200 content-type text/plain string "ok"
CFG
i=0
for id in $(dk 2 ps -q --filter label=io.lastbackend.service=web); do
  pid=$(dk 2 inspect -f '{{.State.Pid}}' "$id")
  rigx 2 nsenter -t "$pid" -n haproxy -f "$WORK/haproxy.cfg" -D -p "$WORK/haproxy.$i.pid"
  i=$((i + 1))
done
# The client side: the pod "far" on host 1 (wrk and iperf3 run in its
# network namespace, as a pod reaching a service does).
cid() { dk "$1" ps -q --filter "label=io.lastbackend.service=$2" | head -1; }
pid_of() { dk "$1" inspect -f '{{.State.Pid}}' "$(cid "$1" "$2")"; }
FAR_PID=$(pid_of 1 far)
NEAR_PID=$(pid_of 2 near)
in_far() { rigx 1 nsenter -t "$FAR_PID" -n "$@"; }
eventually 20 in_far curl -fsS --max-time 1 "http://$VIP/" -o /dev/null ||
  { echo "network_bench: VIP $VIP does not answer from a pod on host 1"; exit 1; }

# --- 2. wrk through the VIP vs the pods directly --------------------------------------------
wrk_rps() {  # url...: requests/s summed over the urls, run at once
  local u out sum=0 pids=()
  for u in "$@"; do
    in_far wrk -t1 -c16 -d5s "$u" >"$WORK/wrk.$((${#pids[@]}))" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  for ((i = 0; i < ${#pids[@]}; i++)); do
    out=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.$i")
    sum=$(awk -v a="$sum" -v b="${out:-0}" 'BEGIN {print a + b}')
  done
  echo "$sum"
}
# Alternating rounds, the median of each (the machine's load moves).
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
D=() V=()
for round in 1 2 3 4 5; do
  D+=("$(wrk_rps "http://${WEB[0]}:8080/" "http://${WEB[1]}:8080/")")
  V+=("$(wrk_rps "http://$VIP/" "http://$VIP/")")
done
echo "network_bench: wrk rounds direct ${D[*]} / vip ${V[*]}" >&2
direct=$(echo "${D[*]}" | median)
vip=$(echo "${V[*]}" | median)
echo "wrk_direct_two_pods: $direct req/s"
echo "wrk_through_vip: $vip req/s"
awk -v v="$vip" -v d="$direct" 'BEGIN {printf "wrk_vip_over_direct: %.3f ratio\n", v / d}'

# --- 3. iperf3 across the overlay vs on one host ---------------------------------------------
SERVER_PID=$(pid_of 2 web)
rigx 2 nsenter -t "$SERVER_PID" -n iperf3 -s -p 5201 -D -1 >/dev/null 2>&1
sleep 0.5
iperf() {  # host pid: Gbit/s to the web pod
  rigx "$1" nsenter -t "$2" -n iperf3 -c "${WEB[0]}" -p 5201 -t 8 -J 2>/dev/null |
    jq -r '.end.sum_received.bits_per_second / 1e9'
}
over=$(iperf 1 "$FAR_PID")
rigx 2 nsenter -t "$SERVER_PID" -n iperf3 -s -p 5201 -D -1 >/dev/null 2>&1
sleep 0.5
same=$(iperf 2 "$NEAR_PID")
echo "iperf3_pod_to_pod_overlay: ${over:-0} Gbit/s"
echo "iperf3_pod_to_pod_same_host: ${same:-0} Gbit/s"
awk -v o="${over:-0}" -v s="${same:-1}" 'BEGIN {printf "iperf3_overlay_over_same_host: %.3f ratio\n", o / s}'

# --- 4. a node joining -> routes on every host ----------------------------------------------
routes_to() { rigx "$1" ip route show "$2" dev lb.vxlan 2>/dev/null | grep -q .; }
subnet_of() { api "/cluster/node/$1" 2>/dev/null | jq -r '.spec.network.cidr // empty'; }
S1=$(subnet_of h1)
S2=$(subnet_of h2)
t0=$(now_ms)
start_node 3
S3=""
treg=0
while (($(now_ms) - t0 < 15000)); do
  if [[ -z $S3 ]]; then
    S3=$(subnet_of h3)
    [[ -n $S3 ]] && treg=$(now_ms)
  fi
  if [[ -n $S3 ]] && routes_to 1 "$S3" && routes_to 2 "$S3" && routes_to 3 "$S1" && routes_to 3 "$S2"; then
    break
  fi
  sleep 0.02
done
t1=$(now_ms)
if [[ -n $S3 ]] && routes_to 1 "$S3" && routes_to 2 "$S3" && routes_to 3 "$S1"; then
  echo "node_join_to_routes_everywhere: $((t1 - treg)) ms (from its subnet lease seen in the api)"
  echo "node_start_to_routes_everywhere: $((t1 - t0)) ms (from the agent's start)"
else
  echo "network_bench: host 3 never got its routes"; tail -n 20 "$WORK/h3.log"; exit 1
fi
