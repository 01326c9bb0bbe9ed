#!/usr/bin/env bash
# End-to-end: `lastbackend server` (api + controller + node on SQLite) and
# `lb`, against the dockerd the CTest fixture started in a test-made network
# namespace. This script itself runs inside that namespace (netns-dockerd.sh
# exec), so every request it makes (api on 127.0.0.1, httpd on pod IPs)
# stays inside it.
#
#   test/e2e/e2e.sh BUILD_DIR
#
# Each `check` is a test that can fail; the script exits 1 if any did.
set -uo pipefail
BUILD=${1:?usage: e2e.sh BUILD_DIR}
if [[ -n ${LB_TEST_SKIP:-} ]]; then echo "SKIP: $LB_TEST_SKIP"; exit 0; fi
: "${DOCKER_HOST:?DOCKER_HOST must point at the test dockerd}"
LASTBACKEND=$BUILD/src/exe/lastbackend
LB_BIN=$BUILD/src/exe/lb
WORK=$(mktemp -d /tmp/lb-e2e.XXXXXX)
export HOME=$WORK/home
mkdir -p "$HOME"
PORT=${LB_E2E_PORT:-12967}
NODE_PORT=${LB_E2E_NODE_PORT:-12965}
SERVER_PID=""

E2E_NAME=e2e
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
dk() { docker "$@"; }

cleanup() {
  stop_server
  stop_haproxy_of "$WORK"
  # Our containers only (labelled by the agent), in our own dockerd.
  dk ps -aq --filter label=io.lastbackend.pod | xargs -r docker rm -f >/dev/null 2>&1
  if ((FAILED > 0)); then cp "$WORK/server.log" /tmp/lb-e2e-last-server.log; echo "--- server log (tail; all in /tmp/lb-e2e-last-server.log)"; tail -n 30 "$WORK/server.log"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/manifests" "$WORK/csi"
cat >"$WORK/server.yml" <<YML
verbose: ${LB_E2E_VERBOSE:-2}
token: e2e-token
storage: {driver: sqlite, sqlite: {path: $WORK/lb.db}}
server: {host: 127.0.0.1, port: $PORT}
node: {server: {host: 127.0.0.1, port: $NODE_PORT}}
workdir: $WORK
manifest: {dir: $WORK/manifests}
container: {csi: {dir: {root: $WORK/csi}}}
YML
cat >"$WORK/manifests/local.yml" <<'YML'
kind: Service
version: v1
meta: {name: sidecar}
spec:
  template:
    containers:
      - name: sleeper
        image: {name: lb/busybox:local}
        command: sleep 100000
YML

# data_docs GREETING PASSWORD: Config conf and Secret sec.
data_docs() {
  cat <<YML
kind: Config
version: v1
meta: {name: conf}
spec:
  type: text
  data:
    - {key: greeting, value: "$1"}
---
kind: Secret
version: v1
meta: {name: sec}
spec:
  type: text
  data:
    - {key: password, value: $2}
YML
}
# httpd_service NAME REPLICAS COMMAND [CONTAINER_LINES]: a Service of one
# httpd container on port 8080 (Ready once it listens) with config conf and
# secret sec mounted as files; CONTAINER_LINES (env, resources; indented
# for the container) are added to the container.
httpd_service() {
  local extra=${4:+$4$'\n'}
  cat <<YML
kind: Service
version: v1
meta: {name: $1}
spec:
  replicas: $2
  network: {ports: ["80:8080/tcp"]}
${SPEC_EXTRA:-}
  template:
    containers:
      - name: httpd
        image: {name: ${IMAGE:-lb/busybox:local}}
        command: $3
${extra}        volume:
          - {name: conf-files, path: /etc/conf}
          - {name: sec-files, path: /etc/sec}
        probes:
          readiness: {tcp: {port: 8080}, period: 1}
    volumes:
      - name: conf-files
        config: {name: conf, files: [greeting]}
      - name: sec-files
        secret: {name: sec, files: [password]}
YML
}
# manifest REPLICAS GREETING CONFIG_VALUE: namespace e2e, conf and sec, and
# service web whose env takes a value, the config and the secret.
manifest() {
  local env
  env=$(cat <<YML
        env:
          - {name: GREETING, value: "$2"}
          - name: FROM_CONFIG
            config: {name: conf, key: greeting}
          - name: PASSWORD
            secret: {name: sec, key: password}
        resources:
          limits: {ram: 64MB, cpu: 250m}
YML
  )
  printf 'kind: Namespace\nversion: v1\nmeta: {name: e2e}\n---\n'
  data_docs "$3" "${SECRET:-hunter2}"
  echo ---
  httpd_service web "$1" "sh -c 'echo started-\$HOSTNAME; exec httpd -f -v -p 8080 -h /www'" "$env"
}
apply() { manifest "$@" >"$WORK/web.yml" && lb namespace apply e2e -f "$WORK/web.yml" >/dev/null; }
# apply --wait: returns once the rollout is done; what follows is checked at once.
wait_apply() { manifest "$@" >"$WORK/web.yml" && lb namespace apply e2e -f "$WORK/web.yml" --wait --wait-timeout 90 >"$WORK/wait.out"; }

web_ids() { dk ps -q --no-trunc --filter label=io.lastbackend.service=web --filter label=io.lastbackend.namespace=e2e | sort; }
count_web() { [[ $(web_ids | grep -c .) -eq $1 ]]; }
ip_of() { dk inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }
answers() { local ip; ip=$(ip_of "$1"); [[ -n $ip ]] && curl -fsS --max-time 2 "http://$ip:8080/" -o /dev/null; }
all_answer() {
  local ids; ids=$(web_ids); [[ $(grep -c . <<<"$ids") -eq $1 ]] || return 1
  for id in $ids; do answers "$id" || return 1; done
}
env_of() { dk inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" | grep "^$2=" | cut -d= -f2-; }
api() { curl -fsS -H "Authorization: Bearer e2e-token" "http://127.0.0.1:$PORT$1"; }
pods_json() {  # every pod of service e2e/$1 (default web; all deployments)
  local svc=${1:-web} d
  for d in $(api "/namespace/e2e/service/$svc/deployment" | jq -r '.[].meta.name'); do
    api "/namespace/e2e/service/$svc/deployment/$d/pod"
  done | jq -s 'add // []'
}
ready_pods() {  # count [service]
  [[ $(pods_json "${2:-web}" | jq '[.[] | select(.status.ready == true)] | length') -eq $1 ]]
}
export PORT LB_BIN
export -f api pods_json web_ids env_of ip_of answers

# --- start ---------------------------------------------------------------------------------
check "server starts (api answers /health)" start_server
check "lb is configured by the server (cluster local selected)" \
  eventually 10 grep -q "current: local" "$HOME/.lastbackend/config.yml"
check "lb talks to the cluster without flags" lb namespace ls
node_ok() { api /cluster/node/e2e-node | jq -e '.status.online and .status.capacity.cpu > 0 and .status.capacity.ram > 0' >/dev/null; }
check "node registered with capacity" eventually 10 node_ok
local_runs() { [[ -n $(docker ps -q --filter label=io.lastbackend.local=true) ]]; }
check "local manifest runs as a pod of the node" eventually 30 local_runs

# --- apply ---------------------------------------------------------------------------------
check "apply the service" apply 1 blue hello
check "one web container runs and answers on its pod IP" eventually 60 all_answer 1
ID=$(web_ids | head -1)
env_ok() { [[ "$(env_of "$ID" GREETING)/$(env_of "$ID" FROM_CONFIG)/$(env_of "$ID" PASSWORD)" == blue/hello/hunter2 ]]; }
file_is() { [[ $(docker exec "$1" cat "$2") == "$3" ]]; }
inspect_is() { [[ $(docker inspect -f "$2" "$1") == "$3" ]]; }
check "env from value, config and secret" env_ok
check "secret file projected" file_is "$ID" /etc/sec/password hunter2
read_only() { ! docker exec "$ID" sh -c 'echo x > /etc/sec/password' 2>/dev/null; }
check "secret file read-only in the container" read_only
check "config file projected" file_is "$ID" /etc/conf/greeting hello
pod_label() { docker inspect -f '{{index .Config.Labels "io.lastbackend.pod"}}' "$ID" | grep -q '^e2e:web:'; }
check "labels tie the container to its pod" pod_label
mem_ok() { local m; m=$(docker inspect -f '{{.HostConfig.Memory}}' "$ID"); [[ $m == 64000000 || $m == 67108864 ]]; }
check "memory limit 64MB" mem_ok
check "cpu limit 250m" inspect_is "$ID" '{{.HostConfig.NanoCpus}}' 250000000
check "not privileged" inspect_is "$ID" '{{.HostConfig.Privileged}}' false
reported_ready() {
  local ip; ip=$(ip_of "$ID"); [[ -n $ip ]] || return 1
  pods_json | jq -e --arg ip "$ip" 'length == 1 and .[0].status.ready and .[0].status.ip == $ip' >/dev/null
}
check "pod reported ready with its IP through the api" eventually 20 reported_ready
# The pod network: the node's leased subnet on the CNI bridge lb0.
on_subnet() {
  local cidr ip; ip=$(ip_of "$ID")
  cidr=$(lb node inspect e2e-node -o json | jq -r '.spec.network.cidr // empty')
  [[ -n $cidr && $ip == "${cidr%.0/*}".* ]] && ip -4 addr show lb0 | grep -q "inet ${cidr%.0/*}.1/"
}
check "pod IP is from the node's pod subnet, gateway on lb0" on_subnet
logs_ok() { timeout 5 "$LB_BIN" service logs e2e web | grep -q started-; }
check "lb service logs shows the container output" eventually 10 logs_ok

# --- exec: through the api to the node agent, into the pod's container --------------------------
HOSTNAME_OF_POD=$(docker inspect -f '{{.Config.Hostname}}' "$ID")
check "lb service exec demo web -- cat /etc/hostname prints the pod's hostname" \
  eval '[[ $(timeout 20 "$LB_BIN" service exec e2e web -- cat /etc/hostname) == "$HOSTNAME_OF_POD" ]]'
timeout 20 "$LB_BIN" service exec e2e web -- sh -c 'echo out; echo err >&2; exit 5' >"$WORK/exec.out" 2>"$WORK/exec.err"
EXEC_RC=$?
check "exec: lb exits with the command's status, output and errors apart" \
  eval '((EXEC_RC == 5)) && [[ $(cat "$WORK/exec.out") == out && $(cat "$WORK/exec.err") == err ]]'
check "exec -i: stdin reaches the command" \
  eval '[[ $(printf "one\ntwo\n" | timeout 20 "$LB_BIN" service exec e2e web -i -- wc -l) == 2 ]]'
no_such_pod() {
  local out; out=$(timeout 20 "$LB_BIN" service exec e2e web nosuchpod -- true 2>&1)
  [[ $? -eq 1 && $out == "lb: pod 'nosuchpod' of service 'web' not found on any node" ]]
}
check "exec in a pod the service does not have: a clear error" no_such_pod
# -it through tmux: a terminal, a typed command and its answer, the size passed.
TMUX_SOCK=$WORK/tmux.sock
tmux -S "$TMUX_SOCK" new-session -d -x 120 -y 40 -s exec "$LB_BIN service exec e2e web -it -- sh"
typed_answer() { tmux -S "$TMUX_SOCK" capture-pane -p -t exec | grep -q "^answer 42$"; }
sleep 2
tmux -S "$TMUX_SOCK" send-keys -t exec 'echo answer $((6 * 7)); stty size' Enter
check "exec -it in tmux: a typed command is answered" eventually 15 typed_answer
check "exec -it in tmux: the terminal has tmux's size" \
  eventually 5 eval 'tmux -S "$TMUX_SOCK" capture-pane -p -t exec | grep -q "^40 120$"'
tmux -S "$TMUX_SOCK" resize-window -t exec -x 100 -y 30
sleep 0.5
tmux -S "$TMUX_SOCK" send-keys -t exec 'stty size' Enter
check "exec -it in tmux: a resize of the terminal reaches the command" \
  eventually 5 eval 'tmux -S "$TMUX_SOCK" capture-pane -p -t exec | grep -q "^30 100$"'
tmux -S "$TMUX_SOCK" send-keys -t exec 'exit' Enter
pane_gone() { ! tmux -S "$TMUX_SOCK" has-session -t exec 2>/dev/null; }
check "exec -it: exit ends lb" eventually 10 pane_gone
tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
# A client that goes leaves no process behind in the container.
timeout 30 "$LB_BIN" service exec e2e web -- sleep 4343 &
EXEC_PID=$!
sleeping() { docker exec "$ID" ps -o args | grep -q "^sleep 4343"; }
eventually 10 sleeping
kill "$EXEC_PID"; wait "$EXEC_PID" 2>/dev/null
check "exec: the client killed, its command is gone from the container" eventually 10 eval '! sleeping'

# --- config and secret changes: env takes them from both, so each change rolls the pods -----
# (only mounted files would be rewritten in place: see the second service below)
ID_BEFORE=$ID
rolled() {  # a new container answers; its env and files carry $1 (config) and $2 (secret)
  local id; id=$(web_ids | head -1)
  [[ -n $id && $id != "$ID_BEFORE" && $(web_ids | grep -c .) -eq 1 ]] || return 1
  answers "$id" && [[ "$(env_of "$id" FROM_CONFIG)/$(env_of "$id" PASSWORD)" == "$1/$2" ]] &&
    file_is "$id" /etc/conf/greeting "$1" && file_is "$id" /etc/sec/password "$2"
}
check "config change applied" apply 1 blue bonjour
check "config change rolls the pod: new container with the new value in env and file" eventually 60 rolled bonjour hunter2
ID_BEFORE=$(web_ids | head -1)
SECRET=s3cret
# The template is unchanged: only the deployment hash apply answers (it
# covers the secret's data) tells --wait to wait for the new pod.
check "secret change applied with --wait" wait_apply 1 blue bonjour
one_pod_with() {  # the service's only pod is Ready and its container has PASSWORD=$1
  local pods sl id; pods=$(pods_json)
  [[ $(jq length <<<"$pods") -eq 1 && $(jq '.[0].status.ready' <<<"$pods") == true ]] || return 1
  sl=$(jq -r '.[0].meta.selflink' <<<"$pods")
  id=$(dk ps -q --filter "label=io.lastbackend.pod=$sl" | head -1)
  [[ -n $id && $(env_of "$id" PASSWORD) == "$1" ]]
}
check "... returned with the rolled pod Ready (the new secret in its env)" one_pod_with s3cret
check "secret change rolls the pod: new container with the new value in env and file" eventually 60 rolled bonjour s3cret

# --- blue/green ----------------------------------------------------------------------------
OLD=$(web_ids)
apply 1 green bonjour
BG_OK=1
LAST_NEW_READY=0
old_alive=1
end=$((SECONDS + 90))
while ((SECONDS < end)); do
  ids=$(web_ids)
  old_alive=$(comm -12 <(echo "$OLD") <(echo "$ids") | grep -c .)
  new_ready=0
  for id in $(comm -13 <(echo "$OLD") <(echo "$ids")); do answers "$id" && new_ready=$((new_ready + 1)); done
  if ((old_alive == 0)); then
    # The old one left: a new one must have been answering just before.
    ((LAST_NEW_READY >= 1)) || BG_OK=0
    break
  fi
  LAST_NEW_READY=$new_ready
  sleep 0.1
done
bg_ok() { ((BG_OK == 1 && old_alive == 0)); }
check "blue/green: old container removed only after the new one answered" bg_ok
old_gone() { [[ -z $(comm -12 <(echo "$OLD") <(web_ids)) ]]; }
check "blue/green: old container gone" old_gone
new_env() {
  local id; id=$(web_ids | head -1)
  [[ -n $id && "$(env_of "$id" GREETING)/$(env_of "$id" FROM_CONFIG)/$(env_of "$id" PASSWORD)" == green/bonjour/s3cret ]]
}
check "blue/green: new container has the new env (value, changed config and secret) and answers" eventually 30 new_env
check "blue/green: one container answers" eventually 30 all_answer 1

# --- scale ---------------------------------------------------------------------------------
check "scale to 5" apply 5 green bonjour
check "5 containers answer" eventually 90 all_answer 5
check "5 pods reported ready" eventually 30 ready_pods 5
check "scale to 2" apply 2 green bonjour
check "2 containers left and answering" eventually 60 all_answer 2
check "apply --wait (scale to 4) returns" wait_apply 4 green bonjour
check "... with 4 pods Ready and 4 containers answering" eval 'ready_pods 4 && all_answer 4'
check "... and says so" grep -q 'Service `web` is ready: 4 of 4 pods' "$WORK/wait.out"
check "apply --wait (scale to 2) returns" wait_apply 2 green bonjour
check "... with 2 pods, both Ready (the 2 others deleted)" eval 'ready_pods 2 && [[ $(pods_json | jq length) -eq 2 ]]'
check "... and their containers stopped" eventually 60 count_web 2

# --- history and rollback: back to the previous image, never below 2 answering -------------
images_are() {  # every web container runs image $1, and there are $2
  local ids id; ids=$(web_ids); [[ $(grep -c . <<<"$ids") -eq $2 ]] || return 1
  for id in $ids; do [[ $(dk inspect -f '{{.Config.Image}}' "$id") == "$1" ]] || return 1; done
}
answering() { local n=0 id; for id in $(web_ids); do answers "$id" && n=$((n + 1)); done; echo $n; }
# lowest_while PID CMD...: while PID runs, the fewest CMD printed (a count),
# taken over two polls in a row: a container listed just before it is
# stopped may miss one poll.
lowest_while() {
  local pid=$1 lowest=999 prev=999 n low; shift
  while kill -0 "$pid" 2>/dev/null; do
    n=$("$@"); low=$((n > prev ? prev : n)); ((low < lowest)) && lowest=$low
    prev=$n
    sleep 0.1
  done
  echo "$lowest"
}
dk tag lb/busybox:local lb/busybox:v2
IMAGE=lb/busybox:v2
check "apply --wait of a new image (v2) returns" wait_apply 2 green bonjour
unset IMAGE
check "... its 2 containers run v2" eventually 60 images_are lb/busybox:v2 2
lb service history e2e web >"$WORK/history.out"
check "history: v2 is current, the replaced deployments are kept" \
  eval 'grep -Eq "lb/busybox:v2 +ready \(current\) +2/2" "$WORK/history.out" && grep -Eq "lb/busybox:local +retired" "$WORK/history.out"'
lb service rollback e2e web --wait --wait-timeout 90 >"$WORK/rollback.out" 2>"$WORK/rollback.err" &
RB_PID=$!
LOWEST=$(lowest_while "$RB_PID" answering)
wait "$RB_PID"; RB_RC=$?
check "rollback --wait returns" eval '((RB_RC == 0)) && grep -q "rolls back to the spec of deployment" "$WORK/rollback.out"'
check "... then 2 containers of the previous image answer (the old ones stopped)" eventually 30 eval 'images_are lb/busybox:local 2 && all_answer 2'
check "... never fewer than 2 answering during the rollback (lowest: $LOWEST)" eval '((LOWEST >= 2))'
check "history: the previous spec is current again, v2 retired" \
  eval 'lb service history e2e web | grep -Eq "lb/busybox:local +ready \(current\)" && lb service history e2e web | grep -Eq "lb/busybox:v2 +retired"'

# --- remove --------------------------------------------------------------------------------
check "service remove" lb service remove e2e web
check "no web container left" eventually 60 count_web 0
no_volumes() { ! ls "$WORK/csi" | grep -q '^e2e:web:'; }
check "no volume of a web pod left" eventually 20 no_volumes

# --- a rollout without room: 4 pods fill the node's CPU, an env change replaces them ---------
# capacity.cpu is a quantity: "2" (cores) or "1500m".
CAP=$(api /cluster/node/e2e-node | jq -r '.status.capacity.cpu' | awk '/m$/ {print int($0); next} {print int($0 * 1000)}')
QUARTER=$((CAP / 4))
full_yml() {  # GREETING
  httpd_service full 4 "httpd -f -p 8080 -h /www" "        env:
          - {name: GREETING, value: \"$1\"}
        resources:
          limits: {ram: 32MB, cpu: ${QUARTER}m}"
}
full_ids() { dk ps -q --no-trunc --filter label=io.lastbackend.service=full | sort; }
full_answering() { local n=0 id; for id in $(full_ids); do answers "$id" && n=$((n + 1)); done; echo $n; }
full_env_is() {
  local ids id; ids=$(full_ids); [[ $(grep -c . <<<"$ids") -eq 4 ]] || return 1
  for id in $ids; do [[ $(env_of "$id" GREETING) == "$1" ]] || return 1; done
}
full_yml one >"$WORK/full.yml"
check "4 pods of ${QUARTER}m CPU each fill the node (${CAP}m) and roll out" \
  lb namespace apply e2e -f "$WORK/full.yml" --wait --wait-timeout 120
full_yml two >"$WORK/full.yml"
lb namespace apply e2e -f "$WORK/full.yml" --wait --wait-timeout 120 >"$WORK/full.out" 2>"$WORK/full.err" &
FULL_PID=$!
LOWEST=$(lowest_while "$FULL_PID" full_answering)
wait "$FULL_PID"; FULL_RC=$?
check "an env change with no room beside the old pods finishes (--wait returns)" eval '((FULL_RC == 0))'
check "... --wait said it replaces them in batches" grep -q "in batches (no room beside" "$WORK/full.err"
check "... then all 4 containers run the new env" eventually 30 full_env_is two
check "... never fewer than 3 answering during it (lowest: $LOWEST)" eval '((LOWEST >= 3))'
check "remove it" lb service remove e2e full
check "... no container of it left" eventually 60 eval '[[ -z $(full_ids) ]]'

# --- automatic revert: a new spec never ready by its deadline; the old pods answer all along --
SPEC_EXTRA="  strategy: {deadline: 8}"
httpd_service rev 2 "httpd -f -p 8080 -h /www" >"$WORK/rev.yml"
check "a service with an 8 s rollout deadline rolls out" \
  lb namespace apply e2e -f "$WORK/rev.yml" --wait --wait-timeout 90
rev_ids() { dk ps -q --no-trunc --filter label=io.lastbackend.service=rev | sort; }
REV_OLD=$(rev_ids)
# httpd on 8081: the readiness probe on 8080 never passes.
httpd_service rev 2 "httpd -f -p 8081 -h /www" >"$WORK/rev.yml"
unset SPEC_EXTRA
reverted() {
  api /namespace/e2e/service/rev | jq -e '.spec.template.containers[0].command | join(" ") == "httpd -f -p 8080 -h /www"' >/dev/null
}
old_answering() { local n=0 id; for id in $REV_OLD; do answers "$id" && n=$((n + 1)); done; echo "$n"; }
check "apply the never-ready spec" lb namespace apply e2e -f "$WORK/rev.yml"
REV_LOWEST=9
end=$((SECONDS + 60))
while ((SECONDS < end)) && ! reverted; do
  n=$(old_answering); ((n < REV_LOWEST)) && REV_LOWEST=$n
  sleep 0.2
done
check "the controller reverts the spec after the deadline" reverted
check "... the old pods answered all along (fewest: $REV_LOWEST of 2)" eval '((REV_LOWEST == 2))'
check "... inspect says why" eval 'lb service inspect e2e rev | grep -q "failed: not ready within 8 s; reverted to"'
only_old() { [[ $(rev_ids) == "$REV_OLD" ]] && [[ $(old_answering) -eq 2 ]]; }
check "... the new pods are gone, the same 2 old containers serve" eventually 30 only_old
check "... history keeps the failed deployment" eval 'lb service history e2e rev | grep -q "retired .*failed: not ready within 8 s"'
check "remove it" lb service remove e2e rev
check "... no container of it left" eventually 60 eval '[[ -z $(rev_ids) ]]'

# --- kill -9 and restart: adoption ----------------------------------------------------------
# A service with ports: its VIP must be released by the restarted controller.
httpd_service keep 2 "httpd -f -p 8080 -h /www" >"$WORK/keep.yml"
keep_ids() { docker ps -q --no-trunc --filter label=io.lastbackend.service=keep | sort; }
keep_started() { for id in $(keep_ids); do docker inspect -f '{{.Id}} {{.State.StartedAt}} {{.RestartCount}}' "$id"; done | sort; }
keep_answer() {
  local ids; ids=$(keep_ids); [[ $(grep -c . <<<"$ids") -eq 2 ]] || return 1
  for id in $ids; do answers "$id" || return 1; done
}
keep_ready() { ready_pods 2 keep; }
check "apply a second service (2 replicas)" lb namespace apply e2e -f "$WORK/keep.yml"
check "its 2 containers answer" eventually 60 keep_answer
check "its 2 pods reported ready" eventually 30 keep_ready

# --- config and secret used only as files: rewritten in place, no restart ------------------
data_docs salut t0psecret >"$WORK/data.yml"
BEFORE=$(keep_started)
keep_files() {
  local id
  for id in $(keep_ids); do
    file_is "$id" /etc/conf/greeting salut && file_is "$id" /etc/sec/password t0psecret || return 1
  done
}
check "config and secret change applied" lb namespace apply e2e -f "$WORK/data.yml"
check "both reach the mounted files of every pod" eventually 30 keep_files
same_keep() { [[ $(keep_started) == "$BEFORE" ]]; }
check "same containers, not restarted, after a change of files only" same_keep
BEFORE=$(keep_started)
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
check "server restarts after kill -9" start_server
sleep 8  # several reconcile passes of the restarted agent
AFTER=$(keep_started)
same_after() { [[ $BEFORE == "$AFTER" && $(grep -c . <<<"$AFTER") -eq 2 ]]; }
check "adoption: same containers, same StartedAt, no restart after kill -9" same_after
check "adoption: pods still ready" eventually 20 keep_ready

# --- a dead container is restarted and counted ---------------------------------------------
VICTIM=$(keep_ids | head -1)
docker kill "$VICTIM" >/dev/null
check "killed container comes back (same id)" eventually 30 answers "$VICTIM"
restarts_counted() { pods_json keep | jq -e '[.[].status.containers[]?.restarts // 0] | add >= 1' >/dev/null; }
check "restart counted in the pod status" eventually 30 restarts_counted

# --- remove after the restart --------------------------------------------------------------
check "second service remove" lb service remove e2e keep
no_keep() { [[ -z $(keep_ids) ]]; }
check "no container of it left" eventually 60 no_keep
# Torn down for good: its VIP released by the restarted controller, the object gone.
keep_gone() { [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer e2e-token" "http://127.0.0.1:$PORT/namespace/e2e/service/keep") == 404 ]]; }
check "its service object is gone (VIP released after the restart)" eventually 30 keep_gone
check "local pod still runs (never reported, never removed)" local_runs

echo "e2e: $PASSED passed, $FAILED failed"
((FAILED == 0))
