#!/usr/bin/env bash
# A private dockerd inside a network namespace of its own, for tests.
#
#   scripts/netns-dockerd.sh start NAME DIR   netns NAME (lo, no route, and
#                                             "eth0" 198.18.255.1/24, one end
#                                             of a veth pair whose other end
#                                             "eth0p" stays in the netns: the
#                                             host NIC a node's overlay needs;
#                                             LB_NETNS_ETH0=0 leaves it out),
#                                             dockerd on DIR/docker.sock with
#                                             data/exec roots under DIR, the
#                                             busybox image imported
#   scripts/netns-dockerd.sh stop NAME DIR    stops that dockerd only (the pid
#                                             in DIR/docker.pid), its
#                                             containers and containerd,
#                                             unmounts DIR, deletes the netns
#   scripts/netns-dockerd.sh status NAME DIR  exit 0 when it answers /_ping
#   scripts/netns-dockerd.sh exec NAME DIR CMD...
#                                             runs CMD inside the netns
#                                             (nsenter --net) with
#                                             DOCKER_HOST=unix://DIR/docker.sock
#
# Not root: under CI=true every command fails loudly. On a developer machine
# start/stop say why and succeed, and exec runs CMD with LB_TEST_SKIP set to
# the reason, so the tests skip themselves (GTEST_SKIP) instead of failing.
#
# Network safety: the namespace has no route out and no interface but lo,
# the veth pair whose both ends it holds, and docker's own bridge, so nothing
# a container does can leave the machine.
# dockerd is started with nsenter --net (not `ip netns exec`, which remounts
# /sys and hides the cgroups dockerd needs). Needs root.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CMD=${1:-}
NAME=${2:-}
DIR=${3:-}
if [[ -z $CMD || -z $NAME || -z $DIR ]]; then
  echo "usage: $0 start|stop|status NAME DIR | exec NAME DIR CMD..." >&2
  exit 2
fi
[[ $DIR == /* ]] || DIR=$PWD/$DIR
DIR=${DIR%/}
SOCK=$DIR/docker.sock
PIDFILE=$DIR/docker.pid
NETNS=/run/netns/$NAME

log() { echo "netns-dockerd[$NAME]: $*" >&2; }
die() { log "$*"; exit 1; }

ping_ok() { curl -sf --max-time 2 --unix-socket "$SOCK" http://docker/_ping >/dev/null 2>&1; }

# The pid from DIR/docker.pid, only if that process is still a dockerd.
our_dockerd() {
  [[ -f $PIDFILE ]] || return 1
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null || true) == dockerd ]] || return 1
  echo "$pid"
}

wait_gone() {  # pid seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [[ -d /proc/$1 ]] || return 0
    sleep 0.1
  done
  return 1
}

# Processes whose command line names DIR (containerd and its shims).
pids_under_dir() {
  local p
  for p in /proc/[0-9]*; do
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$DIR/" && echo "${p#/proc/}"
  done
  return 0
}

do_stop() {
  local pid children
  if pid=$(our_dockerd); then
    # Containers first, through the API, so shims and mounts go the clean way.
    if ping_ok; then
      local ids
      ids=$(curl -sf --max-time 10 --unix-socket "$SOCK" 'http://docker/containers/json?all=1' |
        grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4 || true)
      for id in $ids; do
        curl -sf --max-time 30 -X DELETE --unix-socket "$SOCK" \
          "http://docker/containers/$id?force=1&v=1" >/dev/null || true
      done
    fi
    children=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
    log "stopping dockerd $pid"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 30; then
      log "dockerd $pid did not stop in 30s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 10 || true
    fi
    for c in $children; do
      wait_gone "$c" 15 || { kill -KILL "$c" 2>/dev/null || true; wait_gone "$c" 5 || true; }
    done
  fi
  # Leftovers of a dockerd that died uncleanly: containerd and shims that
  # were started for DIR, killed by pid.
  for p in $(pids_under_dir); do
    [[ $p == "$$" ]] && continue
    kill -KILL "$p" 2>/dev/null || true
  done
  # Mounts under DIR (overlay layers, netns files, shm), deepest first.
  local m
  for m in $(awk -v d="$DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "cannot unmount $m"
  done
  rm -rf "$DIR/data" "$DIR/exec" "$SOCK" "$PIDFILE"
  if [[ -e $NETNS ]]; then
    ip netns delete "$NAME" 2>/dev/null || log "cannot delete netns $NAME"
  fi
}

do_start() {
  for tool in dockerd nsenter ip curl; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/setup.sh installs it)"
  done
  [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, dockerd)"
  # A unix socket path has at most 107 bytes; containerd's lives deeper.
  ((${#DIR} <= 60)) || die "DIR '$DIR' is too long for the sockets under it (max 60 bytes)"

  # A clean slate: whatever a crashed earlier run left behind.
  do_stop
  mkdir -p "$DIR/data" "$DIR/exec"
  ip netns add "$NAME"
  ip netns exec "$NAME" ip link set lo up
  if [[ ${LB_NETNS_ETH0:-1} != 0 ]]; then
    ip -n "$NAME" link add eth0 type veth peer name eth0p
    ip -n "$NAME" addr add 198.18.255.1/24 dev eth0
    ip -n "$NAME" link set eth0p up
    ip -n "$NAME" link set eth0 up
  fi
  if ip -n "$NAME" route show default | grep -q .; then die "netns $NAME has a default route"; fi
  # Forwarding on before dockerd starts, as a node's CNI turns it on: a
  # dockerd that has to enable it itself also sets the FORWARD policy to
  # DROP, which drops overlay traffic into the pods' bridge.
  nsenter --net="$NETNS" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'

  log "starting dockerd on $SOCK (log: $DIR/dockerd.log)"
  setsid nsenter --net="$NETNS" dockerd \
    --host "unix://$SOCK" \
    --data-root "$DIR/data" \
    --exec-root "$DIR/exec" \
    --pidfile "$PIDFILE" \
    --containerd-namespace "lb-$NAME" \
    --containerd-plugins-namespace "lb-$NAME-plugins" \
    --iptables=true --ip-masq=true \
    </dev/null >"$DIR/dockerd.log" 2>&1 &
  local launcher=$!

  local i
  for ((i = 0; i < 600; i++)); do
    if ping_ok; then break; fi
    if ! kill -0 "$launcher" 2>/dev/null; then
      tail -n 30 "$DIR/dockerd.log" >&2 || true
      die "dockerd exited during start-up"
    fi
    sleep 0.1
  done
  if ! ping_ok; then
    tail -n 30 "$DIR/dockerd.log" >&2 || true
    do_stop
    die "dockerd did not answer /_ping within 60s"
  fi
  log "dockerd $(our_dockerd || echo '?') answers"
  "$HERE/busybox-image.sh" "$SOCK"
}

not_root_reason() {
  [[ $(id -u) -eq 0 ]] && return 1
  echo "needs root for network namespaces and dockerd (running as uid $(id -u))"
}

if reason=$(not_root_reason); then
  if [[ ${CI:-} == true ]]; then die "$reason; CI=true, so this is an error"; fi
  case $CMD in
    start | stop) log "skipping $CMD: $reason"; exit 0 ;;
    exec) shift 3; log "not entering netns $NAME: $reason"; LB_TEST_SKIP="$reason" exec "$@" ;;
  esac
fi

case $CMD in
  exec)
    shift 3
    [[ -e $NETNS ]] || die "netns $NAME does not exist (did the start fixture run?)"
    export DOCKER_HOST=unix://$SOCK LB_TEST_NETNS=$NAME
    exec nsenter --net="$NETNS" "$@"
    ;;
  start) do_start ;;
  stop) do_stop; log "stopped" ;;
  status) ping_ok ;;
  *) die "unknown command '$CMD' (start|stop|status|exec)" ;;
esac
