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
