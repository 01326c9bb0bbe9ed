#!/usr/bin/env bash
# Builds the manifest libFuzzer target with clang in ./build-fuzz and runs it
# for a bounded time, seeded from test/unit/types/data/{valid,regress}.
#   scripts/fuzz-manifest.sh [seconds=60] [extra libFuzzer flags...]
# New corpus entries go to build-fuzz/fuzz/corpus, crashes to build-fuzz/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
shift || true
BUILD_DIR=${BUILD_DIR:-build-fuzz}
CXX_COMPILER=${CXX_COMPILER:-clang++-14}
# Tests off: other folders' test targets are not needed (nor built) here.
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_CXX_COMPILER="$CXX_COMPILER" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLB_BUILD_FUZZ=ON -DLB_BUILD_BENCH=OFF -DLB_BUILD_TESTS=OFF
fi
# Only the fuzz target: the machine is shared.
ninja -C "$BUILD_DIR" -j "${JOBS:-2}" manifest_fuzzer
out=$BUILD_DIR/fuzz
mkdir -p "$out/corpus" "$out/artifacts"
exec "$out/manifest_fuzzer" -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$out/artifacts/" "$@" "$out/corpus" test/unit/types/data/valid test/unit/types/data/regress
