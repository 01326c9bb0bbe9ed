# Sourced by the shell benchmarks (bench/*/*_bench.sh) after they set ROOT,
# BUILD and NETNS: re-runs the calling script inside network namespace
# NETNS with a dockerd of its own (scripts/netns-dockerd.sh), started for
# the run and stopped after it, and gives the inner run DIR (the rig's
# folder: docker.sock, docker.pid) and cpu_ms.
#
#   source "$ROOT/bench/rig.sh" "$0"
DIR=/run/lb-test/$NETNS
RIG=$ROOT/scripts/netns-dockerd.sh

if [[ ${LB_BENCH_INNER:-} != 1 ]]; then
  "$RIG" start "$NETNS" "$DIR" >/dev/null || exit 1
  LB_BENCH_INNER=1 "$RIG" exec "$NETNS" "$DIR" "$1" "$BUILD"
  rc=$?
  "$RIG" stop "$NETNS" "$DIR" >/dev/null 2>&1
  exit $rc
fi
[[ -n ${LB_TEST_SKIP:-} ]] && { echo "skip: $LB_TEST_SKIP"; exit 0; }

# CPU (user+system) a process has used, in ms; 0 when it is gone.
LB_BENCH_HZ=$(getconf CLK_TCK)
cpu_ms() { awk -v hz="$LB_BENCH_HZ" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# The run's scratch folder $WORK (with $HOME in it) and its cleanup on exit:
# the server it started as $SERVER_PID stopped, bench_keep (if the script
# defines it: what to copy out of $WORK), then a swarm it joined left and
# every container of the rig's dockerd removed.
bench_setup() {  # name
  WORK=$(mktemp -d "/tmp/lb-bench-$1.XXXXXX")
  export HOME=$WORK/home
  mkdir -p "$HOME"
  SERVER_PID=""
  trap bench_cleanup EXIT
}
bench_cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  declare -F bench_keep >/dev/null && bench_keep
  # The server's HAProxy, if a kill -9 left it (pid file of its ingress).
  local hp=$WORK/ingress/haproxy/haproxy.pid
  [[ -f $hp && $(cat "/proc/$(cat "$hp")/comm" 2>/dev/null) == haproxy ]] && kill "$(cat "$hp")"
  docker swarm leave --force >/dev/null 2>&1
  docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1
  rm -rf "$WORK"
}
now_ms() { date +%s%3N; }
# $WORK/server.yml of the one-machine cluster the benchmarks run: token
# "bench", the api on 127.0.0.1:$PORT, the node's server on port $1, SQLite
# and the volumes in $WORK.
bench_server_config() {  # node-port
  cat >"$WORK/server.yml" <<YML
token: bench
storage: {driver: sqlite, sqlite: {path: $WORK/lb.db}}
server: {host: 127.0.0.1, port: $PORT}
node: {server: {host: 127.0.0.1, port: $1}}
workdir: $WORK
container: {csi: {dir: {root: $WORK/csi}}}
YML
}
