#!/usr/bin/env bash
# Builds everything and runs the whole test suite: unit tests, integration
# tests against the real binaries, the bundled models' test cases and the
# documentation examples. This is the README's second command and what CI
# runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${HEALTHSCORE_BUILD_DIR:-$root/build}"
jobs="${HEALTHSCORE_JOBS:-2}"

"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j"$jobs" --timeout 900
