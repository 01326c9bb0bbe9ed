#!/usr/bin/env bash
# The main job: from a fresh Debian machine to a running one-machine cluster.
# Installs what is missing, builds, installs `lastbackend` and `lb` into
# /usr/local/bin, makes sure a dockerd runs (systemctl, else started
# directly), imports the demo image lb/busybox:local (no registry needed),
# starts `lastbackend server` (api + controller + node agent on the embedded
# SQLite store), points `lb` at it, applies the demo manifest
# (examples/demo.yml), waits for its pod to be ready and prints how to reach it.
#
# DOCKER_HOST=unix:///path/docker.sock uses that daemon instead (never starts one).
# LB_UP_NO_BUILD=1 skips setup and build and takes the binaries from
# $BUILD_DIR (default build); LB_PREFIX (default /usr/local) is where they go.
# Re-running is safe: an already running server is reused.
# Stop it with: kill "$(cat /var/lib/lastbackend/server.pid)"
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BUILD_DIR=${BUILD_DIR:-build}
PREFIX=${LB_PREFIX:-/usr/local}
if [[ ${LB_UP_NO_BUILD:-} != 1 ]]; then
  bash scripts/setup.sh
  BUILD_DIR=$BUILD_DIR bash scripts/build.sh
fi

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO=sudo
$SUDO mkdir -p "$PREFIX/bin"
$SUDO install -m 0755 "$BUILD_DIR/src/exe/lastbackend" "$BUILD_DIR/src/exe/lb" "$PREFIX/bin/"
export PATH=$PREFIX/bin:$PATH

# --- a docker daemon ---------------------------------------------------------------------
SOCK=${DOCKER_HOST:-unix:///var/run/docker.sock}
SOCK=${SOCK#unix://}
docker_ok() { $SUDO curl -fsS --max-time 2 --unix-socket "$SOCK" http://docker/_ping >/dev/null 2>&1; }
if ! docker_ok; then
  if [[ -n ${DOCKER_HOST:-} ]]; then
    echo "up: DOCKER_HOST=$DOCKER_HOST does not answer"; exit 1
  fi
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    echo "up: starting docker (systemctl start docker)"
    $SUDO systemctl start docker || true
  fi
  if ! docker_ok; then
    echo "up: starting dockerd directly (log: /var/log/lastbackend-dockerd.log)"
    $SUDO bash -c "nohup dockerd >>/var/log/lastbackend-dockerd.log 2>&1 &"
  fi
  for _ in $(seq 1 150); do docker_ok && break; sleep 0.2; done
  docker_ok || { echo "up: dockerd did not come up; see /var/log/lastbackend-dockerd.log"; exit 1; }
fi
$SUDO bash scripts/busybox-image.sh "$SOCK" lb/busybox:local

STATE=${LB_STATE_DIR:-/var/lib/lastbackend}
NODE_PORT=${LB_NODE_PORT:-2965}
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
node:
  server:
    host: 127.0.0.1
    port: $NODE_PORT
workdir: $STATE
container:
  csi:
    dir:
      root: $STATE/volumes
YML
  $SUDO chmod 0600 "$CONFIG"
fi
TOKEN=$($SUDO awk '$1 == "token:" {print $2}' "$CONFIG")

running() { [[ -f $STATE/server.pid ]] && $SUDO kill -0 "$(cat "$STATE/server.pid")" 2>/dev/null; }
if running; then
  echo "up: lastbackend server already running (pid $(cat "$STATE/server.pid"))"
else
  echo "up: starting lastbackend server (log: $STATE/server.log)"
  $SUDO env DOCKER_HOST="unix://$SOCK" bash -c "nohup $PREFIX/bin/lastbackend server -c '$CONFIG' >>'$STATE/server.log' 2>&1 & echo \$! >'$STATE/server.pid'"
fi

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  running || { echo "up: server exited; last log lines:"; tail -n 20 "$STATE/server.log"; exit 1; }
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null || { echo "up: server did not answer on port $PORT"; exit 1; }

# The server configures lb for the user it runs as; do it for this user too.
lb cluster del local >/dev/null 2>&1 || true
lb cluster add local "http://127.0.0.1:$PORT" --token "$TOKEN" >/dev/null
lb cluster select local >/dev/null
echo "up: deploying the demo (lb namespace apply --wait: until its pod is Ready)"
if ! lb namespace apply demo -f "$ROOT/examples/demo.yml" --wait --wait-timeout 120; then
  echo "up: the demo is not ready; see lb service inspect demo web and $STATE/server.log"
  exit 1
fi

# The demo pod's IP from its container (labelled by the node agent); ready
# when httpd answers there.
ready_ips() {
  local id ip
  for id in $($SUDO env DOCKER_HOST="unix://$SOCK" docker ps -q \
      --filter label=io.lastbackend.namespace=demo --filter label=io.lastbackend.service=web); do
    ip=$($SUDO env DOCKER_HOST="unix://$SOCK" docker inspect \
      -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id")
    [[ -n $ip ]] && curl -fsS --max-time 1 "http://$ip:8080/" -o /dev/null 2>&1 && echo "$ip"
  done
}
echo "up: waiting for the demo pod to answer"
IPS=""
for _ in $(seq 1 300); do
  IPS=$(ready_ips || true)
  [[ -n $IPS ]] && break
  sleep 0.2
done
echo
lb service ls demo
if [[ -z $IPS ]]; then
  echo "up: the demo pod does not answer after 60 s; see lb service inspect demo web and $STATE/server.log"
  exit 1
fi
IP=$(head -n 1 <<<"$IPS")
# The demo's route through the ingress (HAProxy, inside lastbackend server).
ROUTE_HOST=web.demo.lb.localhost
ROUTED=""
for _ in $(seq 1 100); do
  curl -fsS --max-time 1 -H "Host: $ROUTE_HOST" http://127.0.0.1/ -o /dev/null 2>&1 && { ROUTED=yes; break; }
  sleep 0.2
done
if [[ -n $ROUTED ]]; then
  ROUTE_LINE="curl -H 'Host: $ROUTE_HOST' http://127.0.0.1/"
else
  ROUTE_LINE="(the route does not answer yet: lb route inspect demo web; is port 80 free?)"
fi
# The cluster's DNS (discovery, inside lastbackend server) on this host.
VIP=$(dig +short +time=1 +tries=2 @127.0.0.1 web.demo.lb.local A 2>/dev/null | head -n 1 || true)
cat <<MSG

up: the demo answers through its route (the ingress, HAProxy, on port 80 of this host):
      $ROUTE_LINE
up: the cluster API answers at http://127.0.0.1:$PORT (token in $CONFIG).
    lb is configured ("lb cluster ls"); try: lb namespace ls, lb service inspect demo web,
    lb service logs demo web
    The demo pod answers on its IP (on the node's pod bridge lb0, reachable from this host;
    pods reach the service on its VIP too: lb service inspect demo web):
      curl http://$IP:8080/
    Pods resolve web, web.demo and web.demo.lb.local through the cluster's DNS:
      dig +short @127.0.0.1 web.demo.lb.local  -> ${VIP:-no answer yet (see $STATE/server.log)}
    stop: kill \$(cat $STATE/server.pid)
MSG
