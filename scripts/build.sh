#!/usr/bin/env bash
# Configures (once) and builds everything into ./build with Ninja and ccache.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
fi
# Two cores and heavy Beast/gtest translation units: two jobs keep memory and time sane.
ninja -C "$BUILD_DIR" -j "${JOBS:-$(nproc)}"
