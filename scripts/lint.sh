#!/usr/bin/env bash
# clang-tidy over the project's own sources with the checks in .clang-tidy
# (naming, bugprone, performance, a modernize subset). Exits non-zero on any
# finding. Uses ./build/compile_commands.json (scripts/build.sh makes it).
#
#   scripts/lint.sh                 every file under src/
#   scripts/lint.sh src/http        only below these paths
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if ! command -v run-clang-tidy >/dev/null || ! command -v clang-tidy >/dev/null; then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang-tidy >/dev/null
fi
[[ -f $BUILD_DIR/compile_commands.json ]] || bash scripts/build.sh
paths=("$@")
((${#paths[@]})) || paths=(src)
# run-clang-tidy takes regexes of files; the generated openapi document is left out.
regex=$(printf '%s|' "${paths[@]/#/$PWD/}")
regex="^(${regex%|})/.*\\.cc\$"
run-clang-tidy -quiet -p "$BUILD_DIR" -j "${JOBS:-$(nproc)}" "$regex" 2>&1 |
  sed -E 's/\x1b\[[0-9;]*m//g' | grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated|^Suppressed|^Use -header-filter|^clang-tidy-' |
  tee "$BUILD_DIR/lint.log" | grep -E 'warning:|error:' | sort -u >"$BUILD_DIR/lint.findings" || true
n=$(wc -l <"$BUILD_DIR/lint.findings")
if ((n > 0)); then
  cat "$BUILD_DIR/lint.findings"
  echo "lint: $n findings (full output: $BUILD_DIR/lint.log)"
  exit 1
fi
echo "lint: clean"
