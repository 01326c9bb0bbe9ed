#!/usr/bin/env bash
# lb_bench_rollout: 20 replicas of an httpd rolled to a new env, then rolled
# back, by `lastbackend server` and by Docker Swarm mode, one after the other
# on one dockerd started in a network namespace made for the run
# (scripts/netns-dockerd.sh). Prints "name: value unit".
#
#   bench/rollout/rollout_bench.sh BUILD_DIR        (root; ~5 min)
#   LB_BENCH_SWARM=0 ...                            (lastbackend only)
#   LB_BENCH_KEEP=/tmp/rollout ...   (keep the server log, the commands' output
#                                     and each poll's count, "ms count")
#
# lastbackend's pods take the default request (100m CPU each): 20 of them
# fill a 2-CPU node, so the new pods cannot start beside the old ones and
# the rollout replaces them in batches. Swarm reserves nothing and rolls with
# its defaults (one task at a time, stop-first, 5 s monitor). Both are timed
# by the user's own blocking command: `lb ... --wait`, `docker service
# update` / `docker service rollback` (which return once converged). While
# each runs, the running containers are polled over HTTP (10 per second) and
# the fewest that answered at once is printed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:?usage: rollout_bench.sh BUILD_DIR}" && pwd)
NETNS=${LB_BENCH_NETNS:-lb-bench-rollout}
source "$ROOT/bench/rig.sh" "$0"

REPLICAS=20
LIMIT=600
IMAGE=lb/busybox:local
bench_setup rollout
PORT=14967
bench_keep() {
  [[ -n ${LB_BENCH_KEEP:-} ]] && mkdir -p "$LB_BENCH_KEEP" && cp "$WORK"/*.log "$WORK"/polls "$WORK"/*.out "$LB_BENCH_KEEP" 2>/dev/null
}
dapi() { curl -fsS --unix-socket "${DOCKER_HOST#unix://}" -G "http://docker$1" "${@:2}"; }
# Running containers with label $1, one IP each.
ips_of() {
  dapi /containers/json --data-urlencode "filters={\"label\":[\"$1\"],\"status\":[\"running\"]}" |
    jq -r '.[].NetworkSettings.Networks[].IPAddress'
}
answering() {  # label -> how many of its running containers answer HTTP now (asked at once)
  ips_of "$1" | xargs -r -P 64 -I{} curl -s --max-time 1 -o /dev/null -w '%{http_code}\n' "http://{}:8080/" |
    grep -c '^200$'
}
# poll LABEL PID: while PID runs, the fewest containers that answered in two
# polls in a row (a container listed just before it stops may miss one).
poll() {
  local lowest=999 prev=999 n low
  while kill -0 "$2" 2>/dev/null; do
    n=$(answering "$1")
    echo "$(now_ms) $n" >>"$WORK/polls"
    low=$((n > prev ? prev : n)); ((low < lowest)) && lowest=$low
    prev=$n
    sleep 0.1
  done
  echo "$lowest"
}
# vip_poll VIP PID: while PID runs, one request to the service's VIP every
# 50 ms; prints "failed total".
vip_poll() {
  local total=0 failed=0
  while kill -0 "$2" 2>/dev/null; do
    curl -fsS --max-time 1 "http://$1/" -o /dev/null 2>/dev/null || failed=$((failed + 1))
    total=$((total + 1))
    sleep 0.05
  done
  echo "$failed $total"
}
# timed NAME LABEL cmd...: runs cmd in the background, polls, prints the
# time and the lowest count answering (and, with VIP set, the requests to
# the service's VIP that failed).
timed() {
  local name=$1 label=$2; shift 2
  local t0 pid rc lowest vipf=""; t0=$(now_ms)
  "$@" >"$WORK/$name.out" 2>&1 &
  pid=$!
  [[ -n ${VIP:-} ]] && { vip_poll "$VIP" "$pid" >"$WORK/$name.vip" & vipf=$!; }
  lowest=$(poll "$label" "$pid")
  wait "$pid"; rc=$?
  if [[ -n $vipf ]]; then
    wait "$vipf"
    read -r f t <"$WORK/$name.vip"
    echo "${name}_vip_requests_failed: $f of $t"
  fi
  if ((rc == 0)); then echo "${name}: $(( $(now_ms) - t0 )) ms"; else echo "${name}: failed (rc $rc)"; tail -3 "$WORK/$name.out"; fi
  echo "${name}_fewest_answering: $lowest of $REPLICAS"
  LAST=$(( $(now_ms) - t0 ))
}

# --- lastbackend server ---------------------------------------------------------------------
bench_server_config 14965
LB_DNS_PORT=0 LB_NODE_NAME=bench "$BUILD/src/exe/lastbackend" server -c "$WORK/server.yml" \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/health" -o /dev/null 2>/dev/null && break; sleep 0.1; done
LB=$BUILD/src/exe/lb
cpu=$(curl -fsS -H "Authorization: Bearer bench" "http://127.0.0.1:$PORT/cluster/node/bench" | jq -r '.status.capacity.cpu' |
  awk '/m$/ {print int($0); next} {print int($0 * 1000)}')
echo "node_cpu_capacity: $cpu millicores"
svc() {
  cat <<YML
kind: Namespace
version: v1
meta: {name: bench}
---
kind: Service
version: v1
meta: {name: web}
spec:
  replicas: $REPLICAS
  network: {ports: ["80:8080/tcp"]}
  template:
    containers:
      - name: httpd
        image: {name: $IMAGE}
        command: httpd -f -p 8080 -h /www
        env:
          - {name: GREETING, value: "$1"}
        probes:
          readiness: {tcp: {port: 8080}, period: 1}
YML
}
LBL=io.lastbackend.service=web
svc a >"$WORK/a.yml"
svc b >"$WORK/b.yml"
"$LB" namespace apply bench -f "$WORK/a.yml" --wait --wait-timeout "$LIMIT" >/dev/null 2>"$WORK/create.err" ||
  { echo "lb: the first rollout did not finish"; tail -3 "$WORK/create.err"; exit 1; }
# The service's VIP, reached from this namespace through the node's nat
# output hook (the route below is only in the namespace made for the run).
VIP=$(curl -fsS -H "Authorization: Bearer bench" "http://127.0.0.1:$PORT/namespace/bench/service/web" | jq -r '.status.ip // empty')
POD_IP=$(ips_of "$LBL" | head -1)
BR=$(ip -o route get "$POD_IP" 2>/dev/null | grep -o 'dev [^ ]*' | cut -d' ' -f2)
[[ -n $VIP && -n $BR ]] && ip route add "$VIP/32" dev "$BR" 2>/dev/null
if [[ -z $VIP ]] || ! curl -fsS --max-time 2 "http://$VIP/" -o /dev/null 2>/dev/null; then
  echo "vip: $VIP does not answer from the host; polling the containers only"
  VIP=""
fi
sleep 2
timed lb_roll_20_env "$LBL" "$LB" namespace apply bench -f "$WORK/b.yml" --wait --wait-timeout "$LIMIT"
LB_ROLL=$LAST
grep -q "in batches" "$WORK/lb_roll_20_env.out" && echo "lb_roll_20_env_phase: replaced in batches (no room beside the old pods)"
sleep 2
timed lb_rollback_20 "$LBL" "$LB" service rollback bench web --wait --wait-timeout "$LIMIT"
LB_BACK=$LAST
VIP=""
"$LB" service remove bench web >/dev/null
for _ in $(seq 300); do [[ -z $(ips_of "$LBL") ]] && break; sleep 0.2; done
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""

# --- Docker Swarm mode ----------------------------------------------------------------------
if [[ ${LB_BENCH_SWARM:-1} == 0 ]]; then
  echo "swarm: skipped (LB_BENCH_SWARM=0)"
elif ! docker swarm init --advertise-addr 127.0.0.1 >/dev/null 2>&1; then
  echo "swarm: init failed"
else
  SL=com.docker.swarm.service.name=web
  docker service create --quiet --name web --replicas "$REPLICAS" --env GREETING=a "$IMAGE" \
    httpd -f -p 8080 -h /www >/dev/null 2>&1
  sleep 2
  timed swarm_update_20_env "$SL" docker service update --quiet --env-add GREETING=b web
  SW_ROLL=$LAST
  sleep 2
  timed swarm_rollback_20 "$SL" docker service rollback --quiet web
  SW_BACK=$LAST
  docker service rm web >/dev/null
  awk -v a="$LB_ROLL" -v b="$SW_ROLL" 'BEGIN {printf "lb_roll_over_swarm_update: %.3f x\n", a / b}'
  awk -v a="$LB_BACK" -v b="$SW_BACK" 'BEGIN {printf "lb_rollback_over_swarm_rollback: %.3f x\n", a / b}'
fi
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
