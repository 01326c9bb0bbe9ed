# Helpers the end-to-end scripts share (sourced). Set E2E_NAME (the log
# prefix) first; `check` counts into PASSED and FAILED.
FAILED=0
PASSED=0

log() { echo "${E2E_NAME:-e2e}: $*"; }
check() {  # description command...
  local what=$1; shift
  if "$@"; then PASSED=$((PASSED + 1)); echo "ok   - $what"
  else FAILED=$((FAILED + 1)); echo "FAIL - $what"; fi
}
# Waits up to $1 seconds for command to succeed.
eventually() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  while ((SECONDS < end)); do "$@" && return 0; sleep 0.2; done
  "$@"
}
lb() { "$LB_BIN" "$@"; }
# Stops the HAProxy a `lastbackend server` with workdir $1 left running
# (after a kill -9 of the server): the master's pid from its pid file, if
# that process is an haproxy.
stop_haproxy_of() {
  local f=$1/ingress/haproxy/haproxy.pid pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == haproxy ]] && kill "$pid" 2>/dev/null
  return 0
}
# `lastbackend server -c $WORK/server.yml` (no DNS, node $E2E_NAME-node),
# logging to $WORK/server.log; SERVER_PID; waits for the api on $PORT.
start_server() {
  LB_DNS_PORT=0 LB_NODE_STOP_GRACE=1 LB_NODE_NAME=$E2E_NAME-node "$LASTBACKEND" server -c "$WORK/server.yml" \
    >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  eventually 30 curl -fsS "http://127.0.0.1:$PORT/health" -o /dev/null
}
stop_server() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
}
