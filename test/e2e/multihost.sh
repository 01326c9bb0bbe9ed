#!/usr/bin/env bash
# End-to-end test of the cluster network on the multi-host rig
# (scripts/netns-hosts.sh, 3 hosts): `lastbackend server` in host 1 with its
# API on host 1's underlay address, `lastbackend node` in hosts 2 and 3. Pods
# of one host reach pods of another by pod IP (VXLAN, no NAT) and through
# service VIPs (nftables), which balance over ready pods only and refuse
# when there is none; hosts joining and leaving change the others' routes;
# an agent killed with -9 loses no request through a VIP; a drained node's
# pods move to the other host, new before old, with no request lost.
#
#   scripts/netns-hosts.sh exec 1 DIR test/e2e/multihost.sh BUILD_DIR
#
# The script runs in host 1 (so does every request it makes, but those it
# makes from a pod's own network namespace); the other hosts' processes are
# started with netns-hosts.sh exec. Needs LB_RIG_PREFIX and LB_RIG_DIR, the
# rig the CTest fixture brought up. Each `check` is a test that can fail;
# the script exits 1 if any did.
set -uo pipefail
BUILD=${1:?usage: multihost.sh BUILD_DIR}
if [[ -n ${LB_TEST_SKIP:-} ]]; then echo "SKIP: $LB_TEST_SKIP"; exit 0; fi
: "${LB_RIG_PREFIX:?LB_RIG_PREFIX must name the rig}" "${LB_RIG_DIR:?LB_RIG_DIR must be the rig directory}"
HERE=$(cd "$(dirname "$0")" && pwd)
RIG=$HERE/../../scripts/netns-hosts.sh
LASTBACKEND=$BUILD/src/exe/lastbackend
LB_BIN=$BUILD/src/exe/lb
WORK=$(mktemp -d /tmp/lb-mh.XXXXXX)
export HOME=$WORK/home
mkdir -p "$HOME"
PORT=${LB_MH_PORT:-12967}
TOKEN=mh-token
API1=$("$RIG" addr 1)
export LB_HOST=http://$API1:$PORT LB_TOKEN=$TOKEN
declare -A PIDS=()  # host -> pid of its lastbackend process

E2E_NAME=multihost
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
dk() { local h=$1; shift; DOCKER_HOST=unix://$LB_RIG_DIR/h$h/docker.sock docker "$@"; }
api() { curl -fsS --max-time 10 -H "Authorization: Bearer $TOKEN" "$LB_HOST$1"; }
routes() { ip -n "$LB_RIG_PREFIX-$1" -4 route show dev lb.vxlan 2>/dev/null; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- processes --------------------------------------------------------------------------------
start_server() {
  LB_NODE_STOP_GRACE=1 LB_SERVER_NO_CLI_CONFIG=1 "$LASTBACKEND" server -c "$WORK/server.yml" \
    >>"$WORK/h1.log" 2>&1 &
  PIDS[1]=$!
  eventually 30 curl -fsS --max-time 2 "$LB_HOST/health" -o /dev/null
}
start_node() {  # host
  local h=$1
  mkdir -p "$WORK/h$h/csi"
  LB_NODE_STOP_GRACE=1 "$RIG" exec "$h" "$LB_RIG_DIR" "$LASTBACKEND" node -v "${LB_MH_VERBOSE:-2}" \
    --api-uri "$LB_HOST" --access-token "$TOKEN" --node-name "mh-$h" --bind-port 12965 \
    --workdir "$WORK/h$h" --container-storage-root "$WORK/h$h/csi" >>"$WORK/h$h.log" 2>&1 &
  PIDS[$h]=$!
}
stop_host() {  # host [signal]
  local pid=${PIDS[$1]:-}
  [[ -n $pid ]] || return 0
  kill "-${2:-TERM}" "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  PIDS[$1]=""
}
KNOT_PID=""
cleanup() {
  local h
  for h in 3 2 1; do stop_host "$h"; done
  stop_haproxy_of "$WORK/h1"
  [[ -n $KNOT_PID ]] && kill "$KNOT_PID" 2>/dev/null && wait "$KNOT_PID" 2>/dev/null
  # Our pods' containers only (labelled by the agents), in the rig's dockerds.
  for h in 1 2 3; do
    dk "$h" ps -aq --filter label=io.lastbackend.pod | xargs -r env DOCKER_HOST="unix://$LB_RIG_DIR/h$h/docker.sock" docker rm -f >/dev/null 2>&1
  done
  if ((FAILED > 0)); then
    for h in 1 2 3; do
      [[ -f $WORK/h$h.log ]] || continue
      cp "$WORK/h$h.log" "/tmp/lb-mh-last-h$h.log"
      echo "--- host $h log (tail; all in /tmp/lb-mh-last-h$h.log)"; tail -n 30 "$WORK/h$h.log"
    done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/csi" "$WORK/knot"
# The only upstream resolver of the cluster's discovery: a Knot DNS server in
# host 1 (its loopback), serving example.test.
KNOT_PORT=5300
cat >"$WORK/knot/knot.conf" <<YML
server:
  listen: 127.0.0.1@$KNOT_PORT
  rundir: $WORK/knot
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
control:
  listen: $WORK/knot/knot.sock
database:
  storage: $WORK/knot
log:
  - target: stderr
    any: warning
zone:
  - domain: example.test
    file: $WORK/knot/example.test.zone
    storage: $WORK/knot
YML
printf '$ORIGIN example.test.\n$TTL 300\n@ SOA ns hostmaster 1 7200 1800 86400 60\n@ NS ns\nns A 127.0.0.1\nwww A 192.0.2.10\n' \
  >"$WORK/knot/example.test.zone"
cat >"$WORK/server.yml" <<YML
verbose: ${LB_MH_VERBOSE:-2}
token: $TOKEN
storage: {driver: sqlite, sqlite: {path: $WORK/lb.db}}
server: {host: $API1, port: $PORT}
node: {name: mh-1, server: {host: $API1, port: 12965}}
dns: {host: $API1, port: 53}
network: {resolver: {servers: ["127.0.0.1:$KNOT_PORT"]}}
workdir: $WORK/h1
container: {csi: {dir: {root: $WORK/csi}}}
YML

# --- manifests --------------------------------------------------------------------------------
# The CGI answers "<hostname> <client address>": who served, and whom it saw.
CGI='#!/bin/sh\necho Content-Type: text/plain\necho\necho $HOSTNAME $REMOTE_ADDR\n'
# service NAME REPLICAS NODE [READINESS]: busybox httpd on 8080 behind VIP
# port 80, on node NODE ("" = anywhere); READINESS is the probe (default:
# TCP on 8080).
service() {
  local sel="" probe=${4:-"{tcp: {port: 8080}, period: 1}"}
  [[ -n $3 ]] && sel="selector: {node: $3}"
  cat <<YML
kind: Service
version: v1
meta: {name: $1}
spec:
  replicas: $2
  $sel
  network: {ports: ["80:8080/tcp"]}
  template:
    containers:
      - name: httpd
        image: {name: lb/busybox:local}
        command: sh -c 'mkdir -p /www/cgi-bin && echo "\$CGI" >/www/cgi-bin/who && chmod +x /www/cgi-bin/who && exec httpd -f -p 8080 -h /www'
        env:
          - {name: CGI, value: "$CGI"}
        resources:
          request: {ram: 16MB, cpu: 10m}
        probes:
          readiness: $probe
YML
}
# A pod to send requests from: client [NAME NODE] (default: client on host 1).
client() {
  cat <<YML
kind: Service
version: v1
meta: {name: ${1:-client}}
spec:
  replicas: 1
  selector: {node: ${2:-mh-1}}
  template:
    containers:
      - name: sleeper
        image: {name: lb/busybox:local}
        command: sleep 100000
        resources:
          request: {ram: 16MB, cpu: 10m}
YML
}
apply() {  # generator args...: one document into namespace mh
  "$@" >"$WORK/doc.yml" && lb namespace apply mh -f "$WORK/doc.yml" >/dev/null
}

# --- pods -------------------------------------------------------------------------------------
pods_json() {  # every pod of service mh/$1 (all deployments)
  local d
  for d in $(api "/namespace/mh/service/$1/deployment" | jq -r '.[].meta.name'); do
    api "/namespace/mh/service/$1/deployment/$d/pod"
  done | jq -s 'add // []'
}
ready_pods() {  # count service: exactly count pods, all ready
  [[ $(pods_json "$2" | jq '[.[] | select(.status.ready == true)] | length as $r | if length == $r then $r else -1 end') -eq $1 ]]
}
# The container of pod selflink $2 on host $1 (the network owner: first).
container_of() { dk "$1" ps -q --no-trunc --filter "label=io.lastbackend.pod=$2" --filter label=io.lastbackend.network=owner | head -1; }
hostname_of() { dk "$1" inspect -f '{{.Config.Hostname}}' "$2"; }
host_of_node() { echo "${1#mh-}"; }
# "host selflink ip ready hostname" per pod of service $1.
pod_table() {
  local node sl ip ready h id
  pods_json "$1" | jq -r '.[] | "\(.status.node) \(.meta.selflink) \(.status.ip) \(.status.ready)"' |
    while read -r node sl ip ready; do
      h=$(host_of_node "$node"); id=$(container_of "$h" "$sl")
      echo "$h $sl $ip $ready $([[ -n $id ]] && hostname_of "$h" "$id")"
    done
}
CLIENT_NS=""
# Runs a command in the client pod's network namespace (host 1's tools).
from_client() { nsenter --net="$CLIENT_NS" "$@"; }
fetch() {  # url: one request from the client pod; prints "hostname client-ip"
  from_client curl -sS --max-time 2 "$1" | sed -E 's/\[::ffff:([0-9.]+)\]/\1/; s/\[(.*)\]/\1/'
}
vip_of() { api "/namespace/mh/service/$1" | jq -r '.status.ip // empty'; }
ip_in() {  # ip cidr
  local ip=$1 net=${2%/*} len=${2#*/} a b c d
  IFS=. read -r a b c d <<<"$ip"; local x=$(((a << 24) | (b << 16) | (c << 8) | d))
  IFS=. read -r a b c d <<<"$net"; local y=$(((a << 24) | (b << 16) | (c << 8) | d))
  local mask=$(((0xffffffff << (32 - len)) & 0xffffffff))
  [[ -n $ip && $len =~ ^[0-9]+$ ]] && (((x & mask) == (y & mask)))
}
subnet_of() { lb node inspect "mh-$1" | awk '/^POD SUBNET/ {print $3}'; }

# --- start ------------------------------------------------------------------------------------
"$RIG" exec 1 "$LB_RIG_DIR" /usr/sbin/knotd -c "$WORK/knot/knot.conf" >>"$WORK/knot.log" 2>&1 &
KNOT_PID=$!
check "server starts in host 1 (api on $API1:$PORT)" start_server
start_node 2
node_online() { api "/cluster/node/$1" | jq -e '.status.online and (.spec.network.cidr // "") != ""' >/dev/null; }
check "host 1's node registered with a pod subnet" eventually 20 node_online mh-1
check "host 2's agent registers through host 1's address, with a pod subnet" eventually 20 node_online mh-2
discovery_ready() { api /discovery | jq -e --arg ip "$API1" 'any(.[]; .spec.ip == $ip and .spec.port == 53 and .status.ready)' >/dev/null; }
check "discovery registered by the server, on $API1:53, ready" eventually 20 discovery_ready
check "the agents of hosts 1 and 2 give pods the discovery as resolver" \
  eventually 20 grep -q "pods resolve through discovery $API1" "$WORK/h1.log" "$WORK/h2.log"
lb namespace create mh >/dev/null
check "client pod on host 1 applied" apply client
check "client2 pod on host 2 applied" apply client client2 mh-2
check "service srv (1 pod on host 2) applied" apply service srv 1 mh-2
check "client pod ready" eventually 60 ready_pods 1 client
check "client2 pod ready" eventually 60 ready_pods 1 client2
check "srv pod ready" eventually 60 ready_pods 1 srv
CLIENT=$(pod_table client | head -1)
read -r _ _ CLIENT_IP _ _ <<<"$CLIENT"
cid=$(container_of 1 "$(cut -d' ' -f2 <<<"$CLIENT")")
CLIENT_NS=/proc/$(dk 1 inspect -f '{{.State.Pid}}' "$cid")/ns/net
SRV=$(pod_table srv | head -1)
read -r SRV_HOST _ SRV_IP _ SRV_NAME <<<"$SRV"
log "client $CLIENT_IP on host 1; srv $SRV_IP ($SRV_NAME) on host $SRV_HOST"
check "the pods are where their selectors put them" eval '[[ ${CLIENT%% *} == 1 && $SRV_HOST == 2 ]]'

# --- 1. pod addresses from the host's subnet ---------------------------------------------------
S1=$(subnet_of 1); S2=$(subnet_of 2)
log "pod subnets: host 1 $S1, host 2 $S2"
check "1. the two hosts' pod subnets differ" eval '[[ -n $S1 && -n $S2 && $S1 != "$S2" ]]'
check "1. host 1's pod has an address of host 1's subnet" ip_in "$CLIENT_IP" "$S1"
check "1. host 2's pod has an address of host 2's subnet" ip_in "$SRV_IP" "$S2"

# --- 2. pod to pod across hosts, no NAT ----------------------------------------------------------
pod_to_pod() {
  local out; out=$(fetch "http://$SRV_IP:8080/cgi-bin/who" 2>&1)
  [[ $out == "$SRV_NAME $CLIENT_IP" ]] || { log "pod to pod: got '$out', want '$SRV_NAME $CLIENT_IP'"; return 1; }
}
check "2. host 1's pod fetches from host 2's pod by pod IP; the server sees the client's pod IP" eventually 10 pod_to_pod

# --- 3. VIP whose only pod is on another host ----------------------------------------------------
SRV_VIP=$(vip_of srv)
endpoint_line() { lb service inspect mh srv | grep -q "^Endpoint: .*($SRV_VIP)"; }
check "3. srv has a VIP ($SRV_VIP), shown by lb service inspect" eval '[[ -n $SRV_VIP ]] && endpoint_line'
via_vip() {
  local out; out=$(fetch "http://$SRV_VIP:80/cgi-bin/who")
  [[ $out == "$SRV_NAME $CLIENT_IP" ]] || { log "via VIP: got '$out', want '$SRV_NAME $CLIENT_IP'"; return 1; }
}
check "3. host 1's pod reaches srv (pod on host 2) through VIP:80" eventually 10 via_vip

# --- discovery: every pod reaches every service by name, on every host ----------------------------
# busybox in the pod: its own resolver (nslookup) and the libc one (wget).
in_pod() {  # host service command...: runs in the service's first container on that host
  local h=$1 sl; sl=$(pod_table "$2" | awk -v h="$h" '$1 == h {print $2; exit}'); shift 2
  dk "$h" exec "$(container_of "$h" "$sl")" "$@"
}
resolves_to_vip() {  # host service name
  local out; out=$(in_pod "$1" "$2" busybox nslookup "$3" 2>&1)
  grep -q "Address.*$SRV_VIP" <<<"$out" || { log "nslookup $3 on host $1: $out"; return 1; }
}
wget_by_name() {  # host service name
  # (no -T: this static busybox wget crashes with it)
  local out; out=$(in_pod "$1" "$2" wget -q -O - "http://$3/cgi-bin/who" 2>&1)
  [[ $out == "$SRV_NAME "* ]] || { log "wget http://$3/ on host $1: got '$out'"; return 1; }
}
for name in srv srv.mh srv.mh.lb.local; do
  check "dns: host 1's pod resolves $name to srv's VIP (busybox nslookup)" eventually 10 resolves_to_vip 1 client "$name"
  check "dns: host 2's pod resolves $name to srv's VIP (busybox nslookup)" eventually 10 resolves_to_vip 2 client2 "$name"
  check "dns: host 1's pod fetches http://$name/ (busybox wget)" eventually 10 wget_by_name 1 client "$name"
  check "dns: host 2's pod fetches http://$name/ (busybox wget)" eventually 10 wget_by_name 2 client2 "$name"
done
outside_name() { in_pod 2 client2 busybox nslookup www.example.test 2>&1 | grep -q "192.0.2.10"; }
check "dns: an outside name is forwarded to the upstream (host 2's pod, www.example.test)" eventually 10 outside_name
srv_record() { from_client dig +short +time=2 @"$API1" _80._tcp.srv.mh.lb.local SRV | grep -q "0 100 80 srv.mh.lb.local."; }
check "dns: SRV _80._tcp.srv.mh.lb.local from host 1's pod (dig)" srv_record
gone_nx() { from_client dig +time=2 @"$API1" gone.mh.lb.local | grep -q "status: NXDOMAIN"; }
resolves_gone() { from_client dig +short +time=2 @"$API1" gone.mh.lb.local | grep -qE '^[0-9.]+$'; }
check "dns: a service created resolves" eval 'apply service gone 1 mh-2 && eventually 10 resolves_gone'
check "dns: ... and once removed is NXDOMAIN" eval 'lb service remove mh gone >/dev/null && eventually 10 gone_nx'
records_reported() { api /discovery | jq -e 'any(.[]; .status.records >= 1 and .status.queries >= 1)' >/dev/null; }
check "dns: discovery reports its records and queries served (GET /discovery)" eventually 10 records_reported

# --- 5 and 6. readiness gates traffic; no ready pod: refused at once -----------------------------
apply service gated 2 mh-2 "{exec: {command: test -f /tmp/ready}, period: 1, failure_threshold: 1}"
gated_running() { [[ $(pod_table gated | awk '$5 != ""' | grep -c .) -eq 2 ]]; }
check "gated: 2 pods running (not ready: no /tmp/ready)" eventually 60 gated_running
GATED_VIP=$(vip_of gated)
REFUSE_MS=""
refused_fast() {
  local t0 t1 err
  t0=$(now_ms)
  # bash's connect says why it failed (curl says "Couldn't connect" for
  # a reset and an ICMP error alike).
  err=$(from_client timeout 2 bash -c "exec 3<>/dev/tcp/$GATED_VIP/80" 2>&1)
  t1=$(now_ms)
  REFUSE_MS=$((t1 - t0))
  grep -qi refused <<<"$err" && ((REFUSE_MS < 100)) && return 0
  log "VIP $GATED_VIP without a ready pod: '$err' after ${REFUSE_MS} ms"
  return 1
}
check "6. a VIP with no ready pod refuses (TCP reset) within 100 ms" eventually 15 refused_fast
log "refused after ${REFUSE_MS} ms"
read -r _ GSL _ _ GNAME_A <<<"$(pod_table gated | head -1)"
dk 2 exec "$(container_of 2 "$GSL")" touch /tmp/ready
one_ready() { [[ $(pods_json gated | jq '[.[] | select(.status.ready == true)] | length') -eq 1 ]]; }
check "gated: the pod given /tmp/ready turns ready, the other stays not ready" eventually 15 one_ready
only_ready_answers() {
  local i out bad=0
  for ((i = 0; i < 20; i++)); do
    out=$(fetch "http://$GATED_VIP:80/cgi-bin/who")
    [[ ${out%% *} == "$GNAME_A" ]] || { bad=$((bad + 1)); log "gated: answer '$out' (want $GNAME_A)"; }
  done
  ((bad == 0))
}
gated_serves() { [[ $(fetch "http://$GATED_VIP:80/cgi-bin/who") == "$GNAME_A "* ]]; }
eventually 10 gated_serves >/dev/null
check "5. 20 requests through the VIP: all to the ready pod, none to the one failing readiness" only_ready_answers
dk 2 exec "$(container_of 2 "$GSL")" rm -f /tmp/ready
no_ready() { [[ $(pods_json gated | jq '[.[] | select(.status.ready == true)] | length') -eq 0 ]]; }
check "gated: readiness lost again" eventually 15 no_ready
check "6. ... and the VIP refuses again within 100 ms" eventually 15 refused_fast

# --- 7. a third host joins ----------------------------------------------------------------------
# One route per peer subnet via lb.vxlan, nothing else on it.
routes_are() {  # host subnet...: exactly these routes on host's lb.vxlan
  local h=$1; shift
  local want got
  want=$(printf '%s\n' "$@" | sort); got=$(routes "$h" | awk '{print $1}' | sort)
  [[ $got == "$want" ]]
}
check "7. before host 3: host 1 routes host 2's subnet over lb.vxlan, and only it" routes_are 1 "$S2"
check "7. before host 3: host 2 routes host 1's subnet over lb.vxlan, and only it" routes_are 2 "$S1"
T0=$(now_ms)
start_node 3
check "host 3's agent registers with a pod subnet" eventually 20 node_online mh-3
S3=$(subnet_of 3)
log "host 3's subnet $S3"
joined() { routes_are 1 "$S2" "$S3" && routes_are 2 "$S1" "$S3" && routes_are 3 "$S1" "$S2"; }
eventually 20 joined
JOIN_MS=$(($(now_ms) - T0))
log "routes complete ${JOIN_MS} ms after host 3's agent started"
check "7. host 3 joined: every host has one route per peer subnet via lb.vxlan" joined
check "7. ... within 3 s of host 3's agent start" eval '((JOIN_MS <= 3000))'
check "1. host 3's subnet differs from the others" eval '[[ -n $S3 && $S3 != "$S1" && $S3 != "$S2" ]]'

# --- 4. scale 1 -> 4 -> 1 across the hosts --------------------------------------------------------
# count answers per pod hostname over N requests through a VIP
tally() {  # vip n
  local i
  for ((i = 0; i < $2; i++)); do fetch "http://$1:80/cgi-bin/who" | awk '{print $1}' || echo FAILED; done |
    sort | uniq -c | awk '{print $2, $1}'
}
check "spread: 1 pod applied" apply service spread 1 ""
check "spread: 1 pod ready" eventually 60 ready_pods 1 spread
SPREAD_VIP=$(vip_of spread)
ready_names() { pod_table spread | awk '$4 == "true" {print $5}' | sort; }
# Every ready pod answers among 8 per pod, and nothing else does.
served_by_ready() {
  local names counts; names=$(ready_names); [[ $(grep -c . <<<"$names") -eq $1 ]] || return 1
  counts=$(tally "$SPREAD_VIP" $(($1 * 8)))
  [[ $(awk '{print $1}' <<<"$counts" | sort) == "$names" ]] || { log "spread: answers $(tr '\n' ' ' <<<"$counts"), ready: $(tr '\n' ' ' <<<"$names")"; return 1; }
}
check "4. scale 1: the one pod gets every request" eventually 10 served_by_ready 1
check "4. scale to 4" apply service spread 4 ""
check "4. 4 pods ready" eventually 60 ready_pods 4 spread
spread_hosts() { [[ $(pod_table spread | awk '{print $1}' | sort -u | grep -c .) -eq 3 ]]; }
check "4. the 4 pods are spread over the 3 hosts" spread_hosts
check "4. every new ready pod gets traffic, nothing else does" eventually 10 served_by_ready 4
# The ingress of host 1's server (HAProxy) reaches the pods on every host.
check "ingress: route spread.mh.example created" eval 'lb route create mh spread -p 80 --domain spread.mh.example spread:80 >/dev/null'
ingress_spread() {
  local names i
  names=$(for i in $(seq 16); do curl -sS -m 2 -H 'Host: spread.mh.example' http://127.0.0.1/cgi-bin/who | awk '{print $1}'; done | sort -u)
  [[ $names == "$(ready_names)" ]] || { log "ingress: answers $(tr '\n' ' ' <<<"$names"), ready: $(tr '\n' ' ' <<<"$(ready_names)")"; return 1; }
}
check "ingress: host 1's ingress balances over the 4 pods on the 3 hosts" eventually 15 ingress_spread
BEFORE=$(ready_names)
check "4. scale to 1" apply service spread 1 ""
check "4. 1 pod left, ready" eventually 60 ready_pods 1 spread
AFTER=$(ready_names)
removed_silent() {
  local counts; counts=$(tally "$SPREAD_VIP" 24)
  [[ $(awk '{print $1}' <<<"$counts") == "$AFTER" ]] || { log "spread after scale-down: answers $(tr '\n' ' ' <<<"$counts"), remaining $AFTER"; return 1; }
}
check "4. the 3 removed pods get no traffic, the remaining one all of it" removed_silent
check "4. the remaining pod was one of the 4" grep -qx "$AFTER" <<<"$BEFORE"

# --- 8. kill -9 of host 2's agent under a 200-request loop ----------------------------------------
# srv's pod is on host 2; the loop runs from the client pod on host 1.
LOOP_OUT=$WORK/loop.out
loop_200() {
  local i
  for ((i = 0; i < 200; i++)); do
    if curl -sS --max-time 2 "http://$SRV_VIP:80/cgi-bin/who" >/dev/null 2>>"$WORK/loop.err"; then echo ok; else echo fail; fi
    sleep 0.02
  done
}
export -f loop_200
SRV_CID=$(container_of 2 "$(pod_table srv | awk '{print $2}' | head -1)")
SRV_STARTED=$(dk 2 inspect -f '{{.State.StartedAt}}' "$SRV_CID")
( SRV_VIP=$SRV_VIP WORK=$WORK nsenter --net="$CLIENT_NS" bash -c loop_200 >"$LOOP_OUT" ) &
LOOP=$!
sleep 0.5
stop_host 2 KILL
sleep 0.5
start_node 2
wait "$LOOP"
OKS=$(grep -c '^ok$' "$LOOP_OUT")
log "loop: $OKS of 200 answered; errors: $(sort "$WORK/loop.err" 2>/dev/null | uniq -c | head -3 | tr '\n' ' ')"
check "8. kill -9 of host 2's agent during 200 requests through the VIP: none lost" eval '((OKS == 200))'
check "8. host 2's agent back: srv pod ready again" eventually 30 ready_pods 1 srv
same_srv() { [[ $(dk 2 inspect -f '{{.State.StartedAt}}' "$SRV_CID" 2>/dev/null) == "$SRV_STARTED" ]]; }
check "8. ... the same container, not restarted" same_srv
check "8. ... the VIP still answers" eventually 10 via_vip

# --- 7. a host removed disappears from the others' routes ------------------------------------------
stop_host 3
check "7. host 3 removed from the cluster (DELETE /cluster/node/mh-3)" \
  curl -fsS --max-time 10 -X DELETE -H "Authorization: Bearer $TOKEN" "$LB_HOST/cluster/node/mh-3" -o /dev/null
T0=$(now_ms)
left() { routes_are 1 "$S2" && routes_are 2 "$S1"; }
eventually 20 left
LEAVE_MS=$(($(now_ms) - T0))
log "host 3's routes gone ${LEAVE_MS} ms after its removal"
check "7. host 3's subnet gone from hosts 1 and 2's routes" left
check "7. ... within 3 s" eval '((LEAVE_MS <= 3000))'

# --- drain: a node's 3 pods move to the other host, new before old ----------------------------------
# Hosts 1 and 2 left. The services pinned to host 2 go first (no drain can
# move them); with host 1 cordoned, moved's 3 pods all land on host 2; then
# host 2 is drained while its ready pods and its VIP are polled.
lb service remove mh srv >/dev/null
lb service remove mh client2 >/dev/null
lb node cordon mh-1 >/dev/null
check "drain: moved (3 pods) applied with host 1 cordoned" apply service moved 3 ""
check "drain: its 3 pods ready" eventually 60 ready_pods 3 moved
on_host_2() { [[ $(pod_table moved | awk '$1 == 2' | grep -c .) -eq 3 ]]; }
check "drain: ... all 3 on host 2" on_host_2
lb node uncordon mh-1 >/dev/null
MOVED_VIP=$(vip_of moved)
ready_count() { pods_json "$1" | jq '[.[] | select(.status.ready == true)] | length'; }
# While the drain runs: the ready pods of moved (API) and one request
# through its VIP (client pod), every 200 ms, until $WORK/drain.done exists.
poll_drain() {
  while [[ ! -e $WORK/drain.done ]]; do
    echo "ready $(ready_count moved)"
    if fetch "http://$MOVED_VIP:80/cgi-bin/who" >/dev/null 2>&1; then echo ok; else echo fail; fi
    sleep 0.2
  done
}
poll_drain >"$WORK/drain.poll" &
POLL=$!
sleep 1
T0=$(now_ms)
lb node drain mh-2 --timeout 120 >"$WORK/drain.out" 2>"$WORK/drain.err"
DRAIN_RC=$?
DRAIN_MS=$(($(now_ms) - T0))
sleep 1
touch "$WORK/drain.done"
wait "$POLL"
FEWEST=$(awk '$1 == "ready" {print $2}' "$WORK/drain.poll" | sort -n | head -1)
FAILS=$(grep -c '^fail$' "$WORK/drain.poll")
log "drain: rc $DRAIN_RC in ${DRAIN_MS} ms; $(tr '\n' ' ' <"$WORK/drain.err")$(cat "$WORK/drain.out"); fewest ready ${FEWEST:-none}, $FAILS of $(grep -c '^ok$\|^fail$' "$WORK/drain.poll") requests failed"
check "drain: lb node drain mh-2 finishes, saying the node is drained" \
  eval '((DRAIN_RC == 0)) && grep -q "^Node \`mh-2\` is drained" "$WORK/drain.out"'
check "drain: ... reporting the pods left as it goes" grep -Eq "^draining: [0-9]+ pods? left on node \`mh-2\`" "$WORK/drain.err"
check "drain: moved never had fewer than 3 ready pods" eval '[[ -n $FEWEST ]] && ((FEWEST >= 3))'
check "drain: its VIP answered every request throughout" eval '((FAILS == 0))'
on_host_1() { [[ $(pod_table moved | awk '$1 == 1 && $4 == "true"' | grep -c .) -eq 3 ]]; }
check "drain: moved's 3 pods ready on host 1" on_host_1
no_pods_left() { [[ -z $(dk 2 ps -q --filter label=io.lastbackend.pod) ]]; }
check "drain: host 2 runs no pod any more" eventually 20 no_pods_left
check "drain: lb node ls says mh-2 is drained" eval 'lb node ls | grep -E "^mh-2 " | grep -q "drained"'
check "drain: lb node uncordon mh-2 makes it schedulable again" \
  eval 'lb node uncordon mh-2 >/dev/null && lb node inspect mh-2 | grep -Eq "^SCHEDULABLE +yes"'

echo "multihost: $PASSED passed, $FAILED failed"
((FAILED == 0))
