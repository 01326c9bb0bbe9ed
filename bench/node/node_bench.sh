#!/usr/bin/env bash
# lb_bench_node: pod start-up of `lastbackend server` against raw `docker run`
# and Docker Swarm mode, all on one dockerd started in a network namespace
# made for the run (scripts/netns-dockerd.sh). Prints "name: value unit".
#
#   bench/node/node_bench.sh BUILD_DIR            (root; ~5 min)
#   LB_BENCH_SIZES="1 10" bench/node/node_bench.sh BUILD_DIR
#   LB_BENCH_VERBOSE=3 LB_BENCH_LOG=/tmp/server.log ...   (keep a debug log:
#   the agent logs per pod when it created, started and found it ready)
#
# Every stage has a time limit (LB_BENCH_STAGE_LIMIT, default 240 s); a
# stage that runs over prints "<name>: timeout" and the run goes on.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:?usage: node_bench.sh BUILD_DIR}" && pwd)
NETNS=${LB_BENCH_NETNS:-lb-bench-node}
DIR=/run/lb-test/$NETNS
RIG=$ROOT/scripts/netns-dockerd.sh

if [[ ${LB_BENCH_INNER:-} != 1 ]]; then
  "$RIG" start "$NETNS" "$DIR" >/dev/null || exit 1
  LB_BENCH_INNER=1 "$RIG" exec "$NETNS" "$DIR" "$0" "$BUILD"
  rc=$?
  "$RIG" stop "$NETNS" "$DIR" >/dev/null 2>&1
  exit $rc
fi
[[ -n ${LB_TEST_SKIP:-} ]] && { echo "skip: $LB_TEST_SKIP"; exit 0; }

SIZES=${LB_BENCH_SIZES:-1 10 50}
LIMIT=${LB_BENCH_STAGE_LIMIT:-240}
IMAGE=lb/busybox:local
WORK=$(mktemp -d /tmp/lb-bench-node.XXXXXX)
export HOME=$WORK/home
mkdir -p "$HOME"
PORT=13967
SERVER_PID=""
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [[ -n ${LB_BENCH_LOG:-} ]] && cp "$WORK/server.log" "$LB_BENCH_LOG"
  docker swarm leave --force >/dev/null 2>&1
  docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }
# until LIMIT cmd...: 0 when cmd succeeded within the stage limit. Checks
# every $POLL s (plus the check's own cost), the same for every system: 10 ms
# while one container is watched, so the poll adds little to a figure of a
# few hundred ms; 100 ms while 10 or 50 are, whose JSON costs a curl + jq
# ~10-20 ms of CPU to read (polled without pause, that CPU would be taken
# from the dockerd both systems wait on).
POLL=0.01
poll_for() { if (($1 > 1)); then POLL=0.1; else POLL=0.01; fi; }
until_ok() { local end=$((SECONDS + LIMIT)); while ((SECONDS < end)); do "$@" && return 0; sleep "$POLL"; done; return 1; }
answers() { curl -fsS --max-time 1 "http://$1:8080/" -o /dev/null 2>/dev/null; }
# The stages poll dockerd with one curl + one jq, as they poll the API: the
# docker CLI costs ~0.1 s of CPU a call, which on two cores would slow
# whichever system is being watched.
dapi() { curl -fsS --unix-socket "${DOCKER_HOST#unix://}" -G "http://docker$1" "${@:2}"; }
# Containers (running or not) with label $1 (empty: all) -> count.
count_containers() {
  if [[ -n $1 ]]; then dapi /containers/json --data-urlencode "all=1" --data-urlencode "filters={\"label\":[\"$1\"]}"
  else dapi /containers/json --data-urlencode "all=1"; fi | jq length
}

# --- raw docker run: create+start until httpd answers ----------------------------------------
raw_round() {  # -> ms from docker run until httpd answers
  local t0 id ip; t0=$(now_ms)
  id=$(docker run -d "$IMAGE" httpd -f -p 8080 -h /www)
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id")
  until_ok answers "$ip"
  echo $(( $(now_ms) - t0 ))
  docker rm -f "$id" >/dev/null
}

# --- lastbackend server ---------------------------------------------------------------------
cat >"$WORK/server.yml" <<YML
verbose: ${LB_BENCH_VERBOSE:-0}
token: bench
storage: {driver: sqlite, sqlite: {path: $WORK/lb.db}}
server: {host: 127.0.0.1, port: $PORT}
node: {server: {host: 127.0.0.1, port: 13965}}
workdir: $WORK
container: {csi: {dir: {root: $WORK/csi}}}
YML
LB_NODE_STOP_GRACE=1 LB_NODE_NAME=bench "$BUILD/src/exe/lastbackend" server -c "$WORK/server.yml" \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
until_ok curl -fsS "http://127.0.0.1:$PORT/health" -o /dev/null 2>/dev/null || { echo "server did not start"; tail "$WORK/server.log"; exit 1; }
LB=$BUILD/src/exe/lb
api() { curl -fsS -H "Authorization: Bearer bench" "http://127.0.0.1:$PORT$1"; }
# Ready pods of service web. The poll costs one curl + one jq once the
# service's only deployment is known (two of each before), so it watches
# about as closely as the docker run loop's one curl.
DEPLOY=""
READY=0
count_ready() {  # -> READY
  local d n
  if [[ -n $DEPLOY ]] && n=$(api "/namespace/bench/service/web/deployment/$DEPLOY/pod" 2>/dev/null |
    jq '[.[] | select(.status.ready)] | length'); then
    READY=$n
    return
  fi
  READY=0
  local ds; ds=$(api /namespace/bench/service/web/deployment 2>/dev/null | jq -r '.[].meta.name')
  [[ $(grep -c . <<<"$ds") -eq 1 ]] && DEPLOY=$ds
  for d in $ds; do
    READY=$((READY + $(api "/namespace/bench/service/web/deployment/$d/pod" | jq '[.[] | select(.status.ready)] | length')))
  done
}
service_gone() { ! api /namespace/bench/service/web >/dev/null 2>&1; }
ready_is() { count_ready; [[ $READY -eq $1 ]]; }
containers_is() { [[ $(count_containers io.lastbackend.service=web) -eq $1 ]]; }
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
  replicas: $1
  template:
    containers:
      - name: httpd
        image: {name: $IMAGE}
        command: httpd -f -p 8080 -h /www
        # Small requests so 50 pods fit the scheduler on a 2-CPU node (the
        # default request is 100m CPU / 64 MiB per container).
        resources: {request: {cpu: 10m, ram: 16MB}}
        probes:
          readiness: {tcp: {port: 8080}, period: 1}
YML
}
lb_round() {  # replicas -> ms until every pod Ready (then removed)
  svc "$1" >"$WORK/svc.yml"
  poll_for "$1"
  local t0; t0=$(now_ms)
  DEPLOY=""
  "$LB" namespace apply bench -f "$WORK/svc.yml" >/dev/null || return 1
  until_ok ready_is "$1" || { echo timeout; return 0; }
  echo $(( $(now_ms) - t0 ))
  "$LB" service remove bench web >/dev/null
  until_ok containers_is 0
  until_ok service_gone
}
# One pod: docker run and lastbackend rounds alternate (the server idles
# during a docker run round), so a change of the machine's load touches both
# alike; the overhead is the median of the pairs' differences.
raw=() one=() diff=()
for i in 1 2 3 4 5; do
  r=$(raw_round)
  o=$(lb_round 1)
  raw+=("$r") one+=("$o")
  [[ $o =~ ^[0-9]+$ ]] && diff+=($((o - r)))
done
echo "raw_docker_run_until_http_median: $(printf '%s\n' "${raw[@]}" | median) ms"
echo "lb_apply_until_ready_1_median: $(printf '%s\n' "${one[@]}" | median) ms"
echo "lb_overhead_per_pod_over_docker_run_median: $(printf '%s\n' "${diff[@]}" | median) ms"
for n in $SIZES; do
  [[ $n == 1 ]] && continue
  t=$(lb_round "$n")
  if [[ $t =~ ^[0-9]+$ ]]; then
    echo "lb_apply_until_ready_$n: $t ms"
    echo "lb_apply_until_ready_${n}_per_pod: $((t / n)) ms"
  else
    echo "lb_apply_until_ready_$n: timeout"
  fi
done
# Scale 10 -> 50 (until 50 Ready), then remove (until no container is left).
poll_for 50
svc 10 >"$WORK/svc.yml"
"$LB" namespace apply bench -f "$WORK/svc.yml" >/dev/null
if until_ok ready_is 10; then
  svc 50 >"$WORK/svc.yml"
  t0=$(now_ms)
  "$LB" namespace apply bench -f "$WORK/svc.yml" >/dev/null
  if until_ok ready_is 50; then echo "lb_scale_10_to_50_until_ready: $(( $(now_ms) - t0 )) ms"; else echo "lb_scale_10_to_50_until_ready: timeout"; fi
  t0=$(now_ms)
  "$LB" service remove bench web >/dev/null
  if until_ok containers_is 0; then echo "lb_remove_50_until_no_container: $(( $(now_ms) - t0 )) ms"; else echo "lb_remove_50_until_no_container: timeout"; fi
fi
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1

# --- Docker Swarm mode on the same dockerd ---------------------------------------------------
if docker swarm init --advertise-addr 127.0.0.1 >/dev/null 2>&1; then
  no_containers() { [[ $(count_containers "") -eq 0 ]]; }
  running_is() {
    [[ $(dapi /tasks --data-urlencode 'filters={"service":["web"],"desired-state":["running"]}' |
      jq '[.[] | select(.Status.State == "running")] | length') -eq $1 ]]
  }
  for n in $SIZES; do
    poll_for "$n"
    t0=$(now_ms)
    docker service create --detach --quiet --name web --replicas "$n" "$IMAGE" httpd -f -p 8080 -h /www >/dev/null 2>&1
    if until_ok running_is "$n"; then echo "swarm_create_until_running_$n: $(( $(now_ms) - t0 )) ms"; else echo "swarm_create_until_running_$n: timeout"; fi
    docker service rm web >/dev/null
    until_ok no_containers
  done
  poll_for 50
  docker service create --detach --quiet --name web --replicas 10 "$IMAGE" httpd -f -p 8080 -h /www >/dev/null 2>&1
  if until_ok running_is 10; then
    t0=$(now_ms)
    docker service scale --detach web=50 >/dev/null 2>&1
    if until_ok running_is 50; then echo "swarm_scale_10_to_50_until_running: $(( $(now_ms) - t0 )) ms"; else echo "swarm_scale_10_to_50_until_running: timeout"; fi
    t0=$(now_ms)
    docker service rm web >/dev/null
    if until_ok no_containers; then echo "swarm_remove_50_until_no_container: $(( $(now_ms) - t0 )) ms"; else echo "swarm_remove_50_until_no_container: timeout"; fi
  fi
  docker swarm leave --force >/dev/null
else
  echo "swarm: init failed"
fi
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
