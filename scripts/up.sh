#!/usr/bin/env bash
# The main job: from a fresh Debian machine to a running one-machine cluster.
# Installs what is missing, builds, installs `lastbackend` and `lb` into
# /usr/local/bin, starts `lastbackend server` on the embedded SQLite store,
# points `lb` at it and applies the demo manifest (examples/demo.yml).
#
# Re-running is safe: an already running server is reused.
# Stop it with: kill "$(cat /var/lib/lastbackend/server.pid)"
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

bash scripts/setup.sh
bash scripts/build.sh

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO=sudo
$SUDO install -m 0755 build/src/exe/lastbackend build/src/exe/lb /usr/local/bin/

STATE=${LB_STATE_DIR:-/var/lib/lastbackend}
PORT=${LB_PORT:-2967}
CONFIG=$STATE/server.yml
$SUDO mkdir -p "$STATE"
$SUDO chmod 0700 "$STATE"

if ! $SUDO test -f "$CONFIG"; then
  TOKEN=$(openssl rand -hex 24)
  $SUDO tee "$CONFIG" >/dev/null <<YML
# lastbackend server configuration (same keys as the components' files).
verbose: 1
token: $TOKEN
name: local
description: one-machine cluster
storage:
  driver: sqlite
  sqlite:
    path: $STATE/lastbackend.db
server:
  host: 127.0.0.1
  port: $PORT
workdir: $STATE
YML
  $SUDO chmod 0600 "$CONFIG"
fi
TOKEN=$($SUDO awk '$1 == "token:" {print $2}' "$CONFIG")

running() { [[ -f $STATE/server.pid ]] && $SUDO kill -0 "$(cat "$STATE/server.pid")" 2>/dev/null; }
if running; then
  echo "up: lastbackend server already running (pid $(cat "$STATE/server.pid"))"
else
  echo "up: starting lastbackend server (log: $STATE/server.log)"
  $SUDO bash -c "nohup /usr/local/bin/lastbackend server -c '$CONFIG' >>'$STATE/server.log' 2>&1 & echo \$! >'$STATE/server.pid'"
fi

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  running || { echo "up: server exited; last log lines:"; tail -n 20 "$STATE/server.log"; exit 1; }
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null || { echo "up: server did not answer on port $PORT"; exit 1; }

lb cluster add local "http://127.0.0.1:$PORT" --token "$TOKEN" >/dev/null
lb cluster select local >/dev/null
lb namespace apply demo -f "$ROOT/examples/demo.yml"
echo
lb service ls demo
cat <<MSG

up: the cluster API answers at http://127.0.0.1:$PORT (token in $CONFIG).
    lb is configured ("lb cluster ls"); try: lb namespace ls, lb service inspect demo web
    stop: kill \$(cat $STATE/server.pid)
MSG
