#!/usr/bin/env bash
# End-to-end of the ingress: `lastbackend server` (api, controller, node,
# and the ingress with Debian's HAProxy) against the test dockerd, inside
# the test's network namespace (netns-dockerd.sh exec): every request goes
# to 127.0.0.1 or to pod IPs in it.
#
#   test/e2e/ingress.sh BUILD_DIR
#
# Host and path routing, 404 for unknown hosts, X-Forwarded-*, HTTPS with
# SNI for two domains (a CA made here by openssl), a bad certificate that
# fails its route only, a scale through the Runtime API (no reload), a
# blue/green rollout and route changes under wrk load with no failed
# request, kill -9 of the server (HAProxy keeps serving) and adoption.
set -uo pipefail
BUILD=${1:?usage: ingress.sh BUILD_DIR}
if [[ -n ${LB_TEST_SKIP:-} ]]; then echo "SKIP: $LB_TEST_SKIP"; exit 0; fi
: "${DOCKER_HOST:?DOCKER_HOST must point at the test dockerd}"
command -v haproxy >/dev/null || { echo "FAIL - haproxy is not installed"; exit 1; }
LASTBACKEND=$BUILD/src/exe/lastbackend
LB_BIN=$BUILD/src/exe/lb
WORK=$(mktemp -d /tmp/lb-ingress.XXXXXX)
export HOME=$WORK/home
mkdir -p "$HOME"
PORT=13967
SERVER_PID=""
HAPROXY_PID_FILE=$WORK/ingress/haproxy/haproxy.pid

E2E_NAME=ingress
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

cleanup() {
  stop_server
  stop_haproxy_of "$WORK"  # a kill -9 of the server leaves it running
  docker ps -aq --filter label=io.lastbackend.namespace=shop | xargs -r docker rm -f >/dev/null 2>&1
  if ((FAILED > 0)); then cp "$WORK/server.log" /tmp/lb-ingress-last-server.log; echo "--- server log (tail; all in /tmp/lb-ingress-last-server.log)"; tail -n 40 "$WORK/server.log"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/server.yml" <<YML
verbose: ${LB_E2E_VERBOSE:-1}
token: ingress-token
storage: {driver: sqlite, sqlite: {path: $WORK/lb.db}}
server: {host: 127.0.0.1, port: $PORT}
node: {server: {host: 127.0.0.1, port: 13965}}
workdir: $WORK
container: {csi: {dir: {root: $WORK/csi}}}
YML

# service NAME REPLICAS VERSION: busybox httpd on 8080 answering
# "<name> <version> <hostname>" on every path, and /cgi-bin/h with the
# forwarded headers.
service() {
  cat <<YML
kind: Service
version: v1
meta: {name: $1}
spec:
  replicas: $2
  network: {ports: ["80:8080/tcp"]}
  template:
    containers:
      - name: web
        image: {name: lb/busybox:local}
        env: [{name: VERSION, value: "$3"}]
        command: >-
          sh -c 'mkdir -p /w/api /w/cgi-bin && echo "$1 \$VERSION \$(hostname)" | tee /w/index.html /w/api/index.html /w/apix >/dev/null &&
          printf "#!/bin/sh\necho Content-Type: text/plain\necho\necho xff=\\\$HTTP_X_FORWARDED_FOR proto=\\\$HTTP_X_FORWARDED_PROTO\n" > /w/cgi-bin/h &&
          chmod +x /w/cgi-bin/h && exec httpd -f -p 8080 -h /w'
        probes:
          readiness: {tcp: {port: 8080}, period: 1}
YML
}
get() { curl -sS -m 5 -H "Host: $1" "http://127.0.0.1$2"; }
code() { curl -s -o /dev/null -m 5 -w '%{http_code}' -H "Host: $1" "http://127.0.0.1$2"; }
reloads() { grep -c "after a reload" "$WORK/server.log"; }
route_state() { lb route ls shop | awk -v r="$1" '$2 == r {print $NF}'; }
# wrk_clean FILE: wrk's summary shows no socket error and no non-2xx answer.
wrk_clean() {
  grep -q "requests in" "$1" && ! grep -qE "Socket errors|Non-2xx" "$1"
}

start_server || { echo "FAIL - the server did not start"; exit 1; }
lb namespace create shop >/dev/null
service web 2 v1 >"$WORK/web.yml"
service api 1 v1 >"$WORK/api.yml"
lb namespace apply shop -f "$WORK/web.yml" -f "$WORK/api.yml" --wait --wait-timeout 90 >/dev/null
lb route create shop front -p 80 --domain shop.example /=web:80 /api=api:80 >/dev/null
lb route create shop plain -p 80 web:80 >/dev/null

check "a route answers on its domain" eventually 10 bash -c "curl -sS -m 2 -H 'Host: shop.example' http://127.0.0.1/ | grep -q '^web v1'"
check "the default domain is <route>.<namespace>.lb.localhost" eventually 10 bash -c "curl -sS -m 2 -H 'Host: plain.shop.lb.localhost:80' http://127.0.0.1/ | grep -q '^web v1'"
check "the longest path prefix wins (/api/ goes to api)" bash -c "curl -sS -m 2 -H 'Host: shop.example' http://127.0.0.1/api/ | grep -q '^api v1'"
check "a prefix matches on a / boundary (/apix goes to web)" bash -c "curl -sS -m 2 -H 'Host: SHOP.example' http://127.0.0.1/apix | grep -q '^web v1'"
check "an unknown host gets 404 from the ingress" test "$(code nobody.example /)" = 404
check "X-Forwarded-For and X-Forwarded-Proto reach the pod" bash -c "curl -sS -m 2 -H 'Host: shop.example' http://127.0.0.1/cgi-bin/h | grep -q 'xff=127.0.0.1 proto=http'"
check "both replicas serve" bash -c "for i in 1 2 3 4 5 6; do curl -sS -m 2 -H 'Host: shop.example' http://127.0.0.1/; done | sort -u | wc -l | grep -qx 2"
check "routes the ingress serves are ready" eventually 10 bash -c "lb() { '$LB_BIN' \"\$@\"; }; lb route ls shop | grep -E '^shop +front .* ready$' >/dev/null"

# Scale: the new pods join through the Runtime API, no reload.
before=$(reloads)
service web 4 v1 >"$WORK/web.yml"
lb namespace apply shop -f "$WORK/web.yml" --wait --wait-timeout 90 >/dev/null
check "a scale to 4 reaches every new pod" eventually 10 bash -c "for i in \$(seq 12); do curl -sS -m 2 -H 'Host: shop.example' http://127.0.0.1/; done | sort -u | wc -l | grep -qx 4"
check "a scale needs no reload of HAProxy" test "$(reloads)" = "$before"

# A blue/green rollout under load: no failed request.
wrk -t2 -c16 -d25s -H "Host: shop.example" http://127.0.0.1/ >"$WORK/wrk-rollout.txt" 2>&1 &
WRK=$!
sleep 3
service web 4 v2 >"$WORK/web.yml"
lb namespace apply shop -f "$WORK/web.yml" --wait --wait-timeout 90 >/dev/null
wait "$WRK"
check "the rollout reached v2" eventually 10 bash -c "curl -sS -m 2 -H 'Host: shop.example' http://127.0.0.1/ | grep -q '^web v2'"
check "no failed request through a blue/green rollout under load" wrk_clean "$WORK/wrk-rollout.txt"
grep -E "requests in|Socket|Non-2xx" "$WORK/wrk-rollout.txt" | sed 's/^/    /'

# Route changes under load: each a checked reload, no failed request.
wrk -t2 -c16 -d20s -H "Host: shop.example" http://127.0.0.1/ >"$WORK/wrk-routes.txt" 2>&1 &
WRK=$!
changes=0
for i in $(seq 1 20); do
  lb route create shop "extra$i" -p 80 --domain "extra$i.example" web:80 >/dev/null && changes=$((changes + 1))
  sleep 0.3
  lb route remove shop "extra$i" >/dev/null && changes=$((changes + 1))
  sleep 0.3
done
wait "$WRK"
check "40 route changes were made" test "$changes" = 40
check "no failed request through 40 route changes under load" wrk_clean "$WORK/wrk-routes.txt"
grep -E "requests in|Socket|Non-2xx" "$WORK/wrk-routes.txt" | sed 's/^/    /'
check "a removed route is gone (404)" eventually 10 test "$(code extra20.example /)" = 404

# HTTPS: a CA of the test, certificates for two domains, SNI picks each.
mkdir -p "$WORK/ca"
(
  cd "$WORK/ca" || exit 1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=lb-test-ca -days 2 \
    -keyout ca.key -out ca.pem 2>/dev/null
  for d in a.example b.example; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$d" -keyout "$d.key" -out "$d.csr" 2>/dev/null
    printf 'subjectAltName=DNS:%s\n' "$d" >"$d.ext"
    openssl x509 -req -in "$d.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "$d.ext" -out "$d.crt" 2>/dev/null
  done
)
lb secret create shop a-cert -f "$WORK/ca/a.example.crt" -f "$WORK/ca/a.example.key" >/dev/null
lb secret create shop b-cert -f "$WORK/ca/b.example.crt" -f "$WORK/ca/b.example.key" >/dev/null
lb secret create shop mixed -f "$WORK/ca/a.example.crt" -f "$WORK/ca/b.example.key" >/dev/null
lb route create shop sec-a -p 443 --domain a.example --tls-secret a-cert --tls-redirect web:80 >/dev/null
lb route create shop sec-b -p 443 --domain b.example --tls-secret b-cert /=api:80 >/dev/null
lb route create shop sec-bad -p 443 --domain bad.example --tls-secret mixed web:80 >/dev/null
https() { curl -sS -m 5 --cacert "$WORK/ca/ca.pem" --resolve "$1:443:127.0.0.1" "https://$1$2"; }
check "HTTPS answers for a.example with its certificate" eventually 10 bash -c "curl -sS -m 2 --cacert '$WORK/ca/ca.pem' --resolve a.example:443:127.0.0.1 https://a.example/ | grep -q '^web v2'"
check "SNI picks b.example's certificate on the same port" eventually 10 bash -c "curl -sS -m 2 --cacert '$WORK/ca/ca.pem' --resolve b.example:443:127.0.0.1 https://b.example/ | grep -q '^api v1'"
check "X-Forwarded-Proto is https behind TLS" bash -c "curl -sS -m 2 --cacert '$WORK/ca/ca.pem' --resolve a.example:443:127.0.0.1 https://a.example/cgi-bin/h | grep -q 'proto=https'"
check "plain HTTP for a.example is redirected to HTTPS" bash -c "curl -sS -m 2 -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: a.example' http://127.0.0.1/x | grep -q '^301 https://a.example/x'"
check "a key that is not the certificate's makes that route error" eventually 10 bash -c "'$LB_BIN' route inspect shop sec-bad | grep -q 'does not match'"
check "the other routes keep serving beside the bad one" test "$(route_state front)" = ready
check "plain HTTP routes still answer" bash -c "curl -sS -m 2 -H 'Host: shop.example' http://127.0.0.1/ | grep -q '^web v2'"

# kill -9 of the server: HAProxy keeps serving; a new server adopts it.
HAPROXY_MASTER=$(cat "$HAPROXY_PID_FILE")
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""
check "after kill -9 of the server the route still answers" bash -c "curl -sS -m 2 -H 'Host: shop.example' http://127.0.0.1/ | grep -q '^web v2'"
start_server
check "a restarted server adopts the running HAProxy" eventually 10 grep -q "adopting the running HAProxy (master pid $HAPROXY_MASTER)" "$WORK/server.log"
lb route create shop late -p 80 --domain late.example web:80 >/dev/null
check "a route made after the restart is served" eventually 10 bash -c "curl -sS -m 2 -H 'Host: late.example' http://127.0.0.1/ | grep -q '^web v2'"
check "the same HAProxy master serves" test "$(cat "$HAPROXY_PID_FILE")" = "$HAPROXY_MASTER"

stop_server
check "a clean stop of the server stops HAProxy" eventually 10 bash -c "! kill -0 $HAPROXY_MASTER 2>/dev/null"

echo "ingress: $PASSED passed, $FAILED failed"
((FAILED == 0))
