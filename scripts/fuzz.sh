#!/usr/bin/env bash
# Builds a libFuzzer target with clang in ./build-fuzz and runs it for a
# bounded time from its checked-in seeds:
#   scripts/fuzz.sh manifest_fuzzer [seconds=60] [extra libFuzzer flags...]
#   scripts/fuzz.sh dns_fuzzer [seconds=60] ...
# Seeds: manifest_fuzzer test/unit/types/data/{valid,regress};
# dns_fuzzer test/integration/discovery/data/seeds. New corpus entries go to
# build-fuzz/fuzz/corpus-<target>, crashes to build-fuzz/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:?usage: fuzz.sh manifest_fuzzer|dns_fuzzer [seconds] [libFuzzer flags...]}
SECONDS_TO_RUN=${2:-60}
shift 2 || shift || true
case $TARGET in
  manifest_fuzzer) SEEDS=(test/unit/types/data/valid test/unit/types/data/regress) ;;
  dns_fuzzer) SEEDS=(test/integration/discovery/data/seeds) ;;
  *) echo "fuzz.sh: unknown target '$TARGET' (manifest_fuzzer, dns_fuzzer)" >&2; exit 2 ;;
esac
BUILD_DIR=${BUILD_DIR:-build-fuzz}
CXX_COMPILER=${CXX_COMPILER:-clang++-14}
# Tests off: other folders' test targets are not needed (nor built) here.
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_CXX_COMPILER="$CXX_COMPILER" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLB_BUILD_FUZZ=ON -DLB_BUILD_BENCH=OFF -DLB_BUILD_TESTS=OFF
fi
# Only the fuzz target: the machine is shared.
ninja -C "$BUILD_DIR" -j "${JOBS:-2}" "$TARGET"
out=$BUILD_DIR/fuzz
mkdir -p "$out/corpus-$TARGET" "$out/artifacts"
exec "$out/$TARGET" -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$out/artifacts/" "$@" "$out/corpus-$TARGET" "${SEEDS[@]}"
