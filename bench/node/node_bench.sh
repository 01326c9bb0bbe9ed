#!/usr/bin/env bash
# lb_bench_node: pod start-up of `lastbackend server` against raw `docker run`
# and Docker Swarm mode, all on one dockerd started in a network namespace
# made for the run (scripts/netns-dockerd.sh). Prints "name: value unit".
#
#   bench/node/node_bench.sh BUILD_DIR            (root; ~8 min)
#   LB_BENCH_SIZES="1 10" bench/node/node_bench.sh BUILD_DIR
#   LB_BENCH_SWARM=0 ...        (lastbackend only)
#   LB_BENCH_ROUNDS=3 ...       (rounds per size in the Swarm comparison; 5)
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
source "$ROOT/bench/rig.sh" "$0"

SIZES=${LB_BENCH_SIZES:-1 10 50}
LIMIT=${LB_BENCH_STAGE_LIMIT:-240}
IMAGE=lb/busybox:local
bench_setup node
PORT=13967
bench_keep() { [[ -n ${LB_BENCH_LOG:-} ]] && cp "$WORK/server.log" "$LB_BENCH_LOG"; }
# CPU of dockerd and its containerd together (the engine both systems drive;
# the shims and runc of each container are left out, the same for both).
DOCKERD_PID=$(cat "$DIR/docker.pid" 2>/dev/null || true)
engine_cpu_ms() {
  local c t=0
  [[ -n $DOCKERD_PID ]] || { echo 0; return; }
  t=$(cpu_ms "$DOCKERD_PID")
  for c in $(cat "/proc/$DOCKERD_PID/task/"*/children 2>/dev/null); do
    [[ $(cat "/proc/$c/comm" 2>/dev/null) == containerd ]] && t=$((t + $(cpu_ms "$c")))
  done
  echo "$t"
}
# stage_cpu NAME SERVER0 ENGINE0: prints the CPU a stage took of our server
# (SERVER0 "-": not shown) and of the engine since the two readings.
stage_cpu() {
  local s=""
  [[ $2 != - ]] && s="server $(($(cpu_ms "$SERVER_PID") - $2)) ms, "
  echo "$1_cpu: ${s}engine $(($(engine_cpu_ms) - $3)) ms"
}
# settle: waits (up to 30 s) until the machine is quiet - both CPUs at least
# 90 % idle over half a second - so that clean-up left by one stage (the
# kernel tears network namespaces down after their containers are gone)
# does not fall on the next one.
settle() {
  local i a b
  for ((i = 0; i < 60; i++)); do
    a=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8, $5}' /proc/stat)
    sleep 0.5
    b=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8, $5}' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " ");
      exit !((y[2] - x[2]) >= 0.9 * (y[1] - x[1]))}' && return 0
  done
  return 0
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }
# until_ok cmd...: 0 when cmd succeeded within the stage limit. Checks every
# $POLL s (plus the check's own cost): 10 ms for what is timed (an HTTP
# answer, a count of events in a file), 100 ms for clean-up waits, whose
# container listings cost a curl + jq ~10-20 ms of CPU each (polled without
# pause, that CPU would be taken from the dockerd the next stage needs).
POLL=0.01
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
  settle
  POLL=0.01
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
LB_DNS_PORT=0 LB_NODE_STOP_GRACE=1 LB_NODE_NAME=bench "$BUILD/src/exe/lastbackend" server -c "$WORK/server.yml" \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
until_ok curl -fsS "http://127.0.0.1:$PORT/health" -o /dev/null 2>/dev/null || { echo "server did not start"; tail "$WORK/server.log"; exit 1; }
LB=$BUILD/src/exe/lb
api() { curl -fsS -H "Authorization: Bearer bench" "http://127.0.0.1:$PORT$1"; }
service_gone() { ! api /namespace/bench/service/web >/dev/null 2>&1; }
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
# lastbackend is timed by the user's own command: `lb namespace apply --wait`
# returns once every pod passed its readiness probe and the node reported it.
lb_apply_wait() {  # replicas -> ms until the apply --wait returned
  svc "$1" >"$WORK/svc.yml"
  settle
  local t0; t0=$(now_ms)
  "$LB" namespace apply bench -f "$WORK/svc.yml" --wait --wait-timeout "$LIMIT" >/dev/null 2>"$WORK/wait.err" ||
    { echo timeout; return 0; }
  echo $(( $(now_ms) - t0 ))
}
lb_remove() {
  POLL=0.1
  "$LB" service remove bench web >/dev/null
  until_ok containers_is 0
  until_ok service_gone
}
lb_round() { lb_apply_wait "$1"; lb_remove; }  # replicas -> ms until every pod Ready (then removed)

# Swarm is timed by dockerd's own event stream: the service's containers'
# "start" events (a task runs once its container started), read as they come
# (curl on /events into a file, counted by a 10 ms loop over that file).
swarm_starts_is() { [[ $(grep -c '"status":"start"' "$WORK/events") -ge $1 ]]; }
swarm_events() {  # starts the reader; -> EVENTS_PID
  : >"$WORK/events"
  curl -sN --unix-socket "${DOCKER_HOST#unix://}" -G "http://docker/events" \
    --data-urlencode 'filters={"type":["container"],"event":["start"],"label":["com.docker.swarm.service.name=web"]}' \
    >"$WORK/events" 2>/dev/null &
  EVENTS_PID=$!
  until_ok dapi /_ping -o /dev/null  # the stream is open once dockerd answered this after it
}
no_containers() { [[ $(count_containers "") -eq 0 ]]; }
swarm_remove() { POLL=0.1; docker service rm web >/dev/null; until_ok no_containers; }
swarm_round() {  # replicas -> ms until every container started (then removed)
  settle
  swarm_events
  POLL=0.01
  local t0 r; t0=$(now_ms)
  docker service create --detach --quiet --name web --replicas "$1" "$IMAGE" httpd -f -p 8080 -h /www >/dev/null 2>&1
  if until_ok swarm_starts_is "$1"; then r=$(( $(now_ms) - t0 )); else r=timeout; fi
  kill "$EVENTS_PID" 2>/dev/null; wait "$EVENTS_PID" 2>/dev/null
  echo "$r"
  swarm_remove
}
ROUNDS=${LB_BENCH_ROUNDS:-5}
list() { local IFS=/; echo "$*"; }

# --- 1. raw docker run against lastbackend, one pod ------------------------------------------
# Rounds alternate (the server idles during a docker run round), so a change
# of the machine's load touches both alike; the overhead is the median of the
# pairs' differences.
raw=() one=() diff=()
for i in 1 2 3 4 5; do
  r=$(raw_round)
  o=$(lb_round 1)
  raw+=("$r") one+=("$o")
  [[ $o =~ ^[0-9]+$ ]] && diff+=($((o - r)))
done
echo "raw_docker_run_until_http_median: $(printf '%s\n' "${raw[@]}" | median) ms ($(list "${raw[@]}"))"
echo "lb_apply_until_ready_1_median: $(printf '%s\n' "${one[@]}" | median) ms ($(list "${one[@]}"))"
echo "lb_overhead_per_pod_over_docker_run_median: $(printf '%s\n' "${diff[@]}" | median) ms ($(list "${diff[@]}"))"

# --- 2. lastbackend against Swarm mode, ROUNDS rounds per size --------------------------------
# Swarm mode stays on for both (its managers' idle cost falls on both), and
# the order of the two alternates from round to round.
if [[ ${LB_BENCH_SWARM:-1} == 0 ]]; then
  SWARM=0
  echo "swarm: skipped (LB_BENCH_SWARM=0)"
elif docker swarm init --advertise-addr 127.0.0.1 >/dev/null 2>&1; then
  SWARM=1
else
  SWARM=0
  echo "swarm: init failed"
fi
for n in $SIZES; do
  lbs=() sws=()
  for ((r = 1; r <= ROUNDS; r++)); do
    if ((SWARM && r % 2 == 0)); then sws+=("$(swarm_round "$n")"); fi
    s0=$(cpu_ms "$SERVER_PID") e0=$(engine_cpu_ms)
    t=$(lb_apply_wait "$n")
    ((n > 1)) && stage_cpu "lb_apply_$n" "$s0" "$e0"
    lbs+=("$t")
    lb_remove
    if ((SWARM && r % 2 == 1)); then
      e0=$(engine_cpu_ms)
      t=$(swarm_round "$n")
      ((n > 1)) && stage_cpu "swarm_create_remove_$n" - "$e0"
      sws+=("$t")
    fi
  done
  lm=$(printf '%s\n' "${lbs[@]}" | grep -E '^[0-9]+$' | median)
  echo "lb_apply_until_ready_${n}_median: $lm ms ($(list "${lbs[@]}"))"
  if ((SWARM)); then
    sm=$(printf '%s\n' "${sws[@]}" | grep -E '^[0-9]+$' | median)
    echo "swarm_create_until_running_${n}_median: $sm ms ($(list "${sws[@]}"))"
  fi
done

# --- 3. scale 10 -> 50, then remove 50 (once each) ----------------------------------------------
lb_apply_wait 10 >/dev/null
s0=$(cpu_ms "$SERVER_PID") e0=$(engine_cpu_ms)
echo "lb_scale_10_to_50_until_ready: $(lb_apply_wait 50) ms"
stage_cpu lb_scale_10_to_50 "$s0" "$e0"
settle
t0=$(now_ms)
"$LB" service remove bench web >/dev/null
if until_ok containers_is 0; then echo "lb_remove_50_until_no_container: $(( $(now_ms) - t0 )) ms"; else echo "lb_remove_50_until_no_container: timeout"; fi
until_ok service_gone
if ((SWARM)); then
  POLL=0.1
  running_is() {
    [[ $(dapi /tasks --data-urlencode 'filters={"service":["web"],"desired-state":["running"]}' |
      jq '[.[] | select(.Status.State == "running")] | length') -eq $1 ]]
  }
  docker service create --detach --quiet --name web --replicas 10 "$IMAGE" httpd -f -p 8080 -h /www >/dev/null 2>&1
  if until_ok running_is 10; then
    settle
    swarm_events
    POLL=0.01
    e0=$(engine_cpu_ms)
    t0=$(now_ms)
    docker service scale --detach web=50 >/dev/null 2>&1
    if until_ok swarm_starts_is 40; then echo "swarm_scale_10_to_50_until_running: $(( $(now_ms) - t0 )) ms"; else echo "swarm_scale_10_to_50_until_running: timeout"; fi
    kill "$EVENTS_PID" 2>/dev/null; wait "$EVENTS_PID" 2>/dev/null
    stage_cpu swarm_scale_10_to_50 - "$e0"
    POLL=0.1
    settle
    t0=$(now_ms)
    docker service rm web >/dev/null
    if until_ok no_containers; then echo "swarm_remove_50_until_no_container: $(( $(now_ms) - t0 )) ms"; else echo "swarm_remove_50_until_no_container: timeout"; fi
  fi
  docker swarm leave --force >/dev/null
fi
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
