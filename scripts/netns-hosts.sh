#!/usr/bin/env bash
# The multi-host test rig: N simulated hosts, each a network namespace with
# its own dockerd, joined by veth pairs to one bridge in an underlay
# namespace of its own.
#
#   scripts/netns-hosts.sh up N DIR         hosts PREFIX-1..N (netns + dockerd on
#                                           DIR/hI/docker.sock, eth0 = 198.18.0.I/24),
#                                           underlay netns PREFIX-u with bridge br0
#   scripts/netns-hosts.sh down N DIR       stops those dockerds (by pid), deletes
#                                           every namespace it made
#   scripts/netns-hosts.sh exec I DIR CMD...
#                                           runs CMD in host I (nsenter --net), with
#                                           DOCKER_HOST=unix://DIR/hI/docker.sock
#   scripts/netns-hosts.sh addr I           prints host I's underlay address
#
# PREFIX is $LB_RIG_PREFIX (default lb-rig). Addresses come from 198.18.0.0/24
# (RFC 2544's benchmarking range: never routed on the internet); there is no
# default route in any namespace, so no packet leaves the machine whatever a
# VIP, route or overlay does. Each host forwards IPv4 (its pods route through
# it). Needs root; not root under CI=true is an error, elsewhere `up`/`down`
# say why and succeed and `exec` runs CMD with LB_TEST_SKIP set.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${LB_RIG_PREFIX:-lb-rig}
UNDERLAY=$PREFIX-u
NET=198.18.0
CMD=${1:-}
ARG=${2:-}
DIR=${3:-}

log() { echo "netns-hosts: $*" >&2; }
die() { log "$*"; exit 1; }
usage() { die "usage: $0 up|down N DIR | exec I DIR CMD... | addr I"; }

[[ -n $CMD && $ARG =~ ^[0-9]+$ ]] || usage
((ARG >= 1 && ARG <= 200)) || die "host count/index $ARG: expected 1..200"
if [[ $CMD != addr ]]; then
  [[ -n $DIR ]] || usage
  [[ $DIR == /* ]] || DIR=$PWD/$DIR
  DIR=${DIR%/}
fi

host() { echo "$PREFIX-$1"; }
hostdir() { echo "$DIR/h$1"; }

up() {
  local n=$1 i
  down "$n"
  mkdir -p "$DIR"
  ip netns add "$UNDERLAY"
  ip -n "$UNDERLAY" link set lo up
  ip -n "$UNDERLAY" link add br0 type bridge
  ip -n "$UNDERLAY" link set br0 up
  for ((i = 1; i <= n; i++)); do
    LB_NETNS_ETH0=0 "$HERE/netns-dockerd.sh" start "$(host "$i")" "$(hostdir "$i")"
    # veth: "eth0" in the host, "h<I>" on the underlay bridge.
    ip -n "$UNDERLAY" link add "h$i" type veth peer name eth0 netns "$(host "$i")"
    ip -n "$UNDERLAY" link set "h$i" master br0 up
    ip -n "$(host "$i")" addr add "$NET.$i/24" dev eth0
    ip -n "$(host "$i")" link set eth0 up
    if ip -n "$(host "$i")" route show default | grep -q .; then die "$(host "$i") has a default route"; fi
  done
  log "$n hosts up: $(host 1)..$(host "$n") on $NET.0/24 (underlay $UNDERLAY)"
}

down() {
  local n=$1 i
  for ((i = 1; i <= n; i++)); do
    if [[ -e /run/netns/$(host "$i") || -d $(hostdir "$i") ]]; then
      "$HERE/netns-dockerd.sh" stop "$(host "$i")" "$(hostdir "$i")" || true
    fi
  done
  if [[ -e /run/netns/$UNDERLAY ]]; then ip netns delete "$UNDERLAY" || log "cannot delete $UNDERLAY"; fi
}

if [[ $(id -u) -ne 0 ]]; then
  reason="needs root for network namespaces and dockerd (running as uid $(id -u))"
  [[ ${CI:-} == true ]] && die "$reason; CI=true, so this is an error"
  case $CMD in
    up | down) log "skipping $CMD: $reason"; exit 0 ;;
    exec) shift 3; LB_TEST_SKIP="$reason" exec "$@" ;;
  esac
fi

case $CMD in
  up) up "$ARG" ;;
  down) down "$ARG"; log "down" ;;
  addr) echo "$NET.$ARG" ;;
  exec)
    shift 3
    (($# > 0)) || usage
    exec "$HERE/netns-dockerd.sh" exec "$(host "$ARG")" "$(hostdir "$ARG")" "$@"
    ;;
  *) usage ;;
esac
