#!/usr/bin/env bash
# The ingress' reaction times and throughput (docs/benchmarks.md, "Ingress").
#
#   bench/ingress/ingress_bench.sh BUILD_DIR   (root; LB_BENCH_ROUTES=100,
#                                               LB_BENCH_BACKENDS=100)
#
# (a) route_ready: `lb route create` started -> the first 200 through the
#     ingress for its domain, over LB_BENCH_ROUTES routes (each removed
#     after). backend_ready: a scale 1 -> 2 of the backend; from the moment
#     the API reports the new pod ready (polled every ~15 ms) to the first
#     answer from it through the ingress (polled every ~5 ms), over
#     LB_BENCH_BACKENDS scales.
# (b) rps: wrk (2 threads, 32 connections, 10 s) through the ingress and
#     through a second HAProxy with a hand-written static config to the same
#     pods, alternated twice; the ratio of the sums.
# Everything runs in a network namespace made for the run (bench/rig.sh).
set -uo pipefail
BUILD=$(cd "${1:?usage: ingress_bench.sh BUILD_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NETNS=lb-bench-ingress
# shellcheck source=../rig.sh
source "$ROOT/bench/rig.sh" "$0"
LB=$BUILD/src/exe/lb
PORT=14967
ROUTES=${LB_BENCH_ROUTES:-100}
BACKENDS=${LB_BENCH_BACKENDS:-100}
bench_setup ingress
STATIC_PID=""
bench_keep() {
  [[ -n $STATIC_PID ]] && kill "$STATIC_PID" 2>/dev/null
  cp "$WORK/server.log" /tmp/lb-bench-ingress-server.log 2>/dev/null
}
bench_server_config 14965
LB_DNS_PORT=0 LB_NODE_STOP_GRACE=1 "$BUILD/src/exe/lastbackend" server -c "$WORK/server.yml" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 150); do curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.2; done
"$LB" namespace create shop >/dev/null

web() {  # replicas
  cat <<YML
kind: Service
version: v1
meta: {name: web}
spec:
  replicas: $1
  network: {ports: ["80:8080/tcp"]}
  template:
    containers:
      - name: web
        image: {name: lb/busybox:local}
        command: sh -c 'mkdir -p /w && hostname > /w/index.html && exec httpd -f -p 8080 -h /w'
        probes:
          readiness: {tcp: {port: 8080}, period: 1}
YML
}
web 1 >"$WORK/web1.yml"
web 2 >"$WORK/web2.yml"
"$LB" namespace apply shop -f "$WORK/web1.yml" --wait --wait-timeout 120 >/dev/null || { echo "bench: web is not ready"; exit 1; }
"$LB" route create shop front -p 80 --domain front.example web:80 >/dev/null

# p50/p99 of the numbers in file $1 (ms).
pct() { sort -n "$1" | awk '{v[NR]=$1} END {p50=v[int((NR+1)*0.5)]; i=int(NR*0.99+0.999); if (i>NR) i=NR; print p50, v[i], NR}'; }

# (a) routes
: >"$WORK/routes.ms"
for i in $(seq 1 "$ROUTES"); do
  t0=$(now_ms)
  "$LB" route create shop "r$i" -p 80 --domain "r$i.example" web:80 >/dev/null
  until [[ $(curl -s -o /dev/null -m 1 -w '%{http_code}' -H "Host: r$i.example" http://127.0.0.1/) == 200 ]]; do
    (( $(now_ms) - t0 > 10000 )) && break
  done
  echo $(( $(now_ms) - t0 )) >>"$WORK/routes.ms"
  "$LB" route remove shop "r$i" >/dev/null
done
read -r p50 p99 n < <(pct "$WORK/routes.ms")
echo "ingress_route_ready_p50: $p50 ms"
echo "ingress_route_ready_p99: $p99 ms"
echo "ingress_route_changes: $n count"

# (a) backends
api() { curl -fsS -H "Authorization: Bearer bench" "http://127.0.0.1:$PORT$1"; }
ready_pods() {  # the ready pods of the live deployment
  local dep
  dep=$(api /namespace/shop/service/web/deployment | jq -r '[.[] | select(.status.state != "retired")][0].meta.name')
  api "/namespace/shop/service/web/deployment/$dep/pod" | jq '[.[] | select(.status.ready)] | length'
}
: >"$WORK/backends.ms"
for i in $(seq 1 "$BACKENDS"); do
  old=$(curl -s -m 1 -H "Host: front.example" http://127.0.0.1/)
  rm -f "$WORK/t_ready" "$WORK/t_traffic"
  ( end=$(( $(now_ms) + 20000 ))
    while (( $(now_ms) < end )); do
      [[ $(ready_pods 2>/dev/null) == 2 ]] && { now_ms >"$WORK/t_ready"; break; }
    done ) &
  P1=$!
  ( end=$(( $(now_ms) + 20000 ))
    while (( $(now_ms) < end )); do
      h=$(curl -s -m 1 -H "Host: front.example" http://127.0.0.1/)
      [[ -n $h && $h != "$old" ]] && { now_ms >"$WORK/t_traffic"; break; }
    done ) &
  P2=$!
  "$LB" namespace apply shop -f "$WORK/web2.yml" >/dev/null
  wait "$P1" "$P2"
  if [[ -f $WORK/t_ready && -f $WORK/t_traffic ]]; then
    d=$(( $(cat "$WORK/t_traffic") - $(cat "$WORK/t_ready") ))
    (( d < 0 )) && d=0  # traffic seen before the (slower) API poll saw the pod ready
    echo "$d" >>"$WORK/backends.ms"
  fi
  "$LB" namespace apply shop -f "$WORK/web1.yml" >/dev/null
  for _ in $(seq 100); do  # back to one container
    (( $(docker ps -q --filter label=io.lastbackend.service=web | wc -l) == 1 )) && break
    sleep 0.1
  done
done
read -r p50 p99 n < <(pct "$WORK/backends.ms")
echo "ingress_backend_ready_p50: $p50 ms"
echo "ingress_backend_ready_p99: $p99 ms"
echo "ingress_backend_changes: $n count"

# (b) throughput: 2 pods, the ingress vs a hand-written HAProxy on 8081.
"$LB" namespace apply shop -f "$WORK/web2.yml" --wait >/dev/null
sleep 2
IPS=$(docker ps -q --filter label=io.lastbackend.service=web | xargs -r docker inspect \
  -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' | sort)
{
  printf 'global\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n'
  printf 'frontend static\n  bind 127.0.0.1:8081\n  default_backend pods\nbackend pods\n  balance roundrobin\n'
  n=0; for ip in $IPS; do n=$((n + 1)); printf '  server s%d %s:8080 check\n' "$n" "$ip"; done
} >"$WORK/static.cfg"
haproxy -f "$WORK/static.cfg" -db >"$WORK/static.log" 2>&1 &
STATIC_PID=$!
sleep 1
rps() { wrk -t2 -c32 -d10s -H "Host: front.example" "$1" | awk '/Requests\/sec/ {print int($2)}'; }
ing=0; sta=0
for _ in 1 2; do
  a=$(rps http://127.0.0.1/); b=$(rps http://127.0.0.1:8081/)
  ing=$((ing + a)); sta=$((sta + b))
done
echo "ingress_rps: $((ing / 2)) req/s"
echo "static_haproxy_rps: $((sta / 2)) req/s"
awk -v a="$ing" -v b="$sta" 'BEGIN {printf "ingress_vs_static_ratio: %.3f x\n", a / b}'
