#!/usr/bin/env bash
# Configures and builds Healthscore into build/ (or $HEALTHSCORE_BUILD_DIR).
# Extra arguments are passed to CMake's configure step.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${HEALTHSCORE_BUILD_DIR:-$root/build}"
jobs="${HEALTHSCORE_JOBS:-2}"

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j"$jobs"
