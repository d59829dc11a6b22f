#!/usr/bin/env bash
# Server CPU per account of routed and unrouted columnar requests, in
# alternation (bench/README.md, "Routed requests" and "One pass, ninth
# round"). One healthscore-server (--threads 2) serves the server tests'
# models with server/testdata/routing laid over them, where `default` sends
# the `enterprise` segment (about half the load generator's accounts) to
# another model. For each load of 8 s the server's CPU ticks are read over
# 5.4 s after a 2.3 s start, and divided by the accounts the load generator
# reports per second over that window.
#
#   bench/routed_cpu.sh [BUILD_DIR] [ROUNDS] [MODES]
#
# MODES: the loads of each round, in order (default "unrouted routed");
# "shadow" adds requests with routes ignored and `enterprise` the shadow
# candidate.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ROUNDS=${2:-3}
MODES=${3:-unrouted routed}
# shellcheck source=bench/routed_setup.sh
. bench/routed_setup.sh
start_server
target="127.0.0.1:$(cat "$TMP/port")"
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

for ((r = 1; r <= ROUNDS; ++r)); do
  for mode in $MODES; do
    extra=()
    [ "$mode" = unrouted ] && extra=(--ignore-routes)
    [ "$mode" = shadow ] && extra=(--ignore-routes --shadow enterprise)
    "$BUILD/bench/load/healthscore-load" --target "$target" --duration 8 \
      --warmup 2 --model default --scenario batch --batch 1024 \
      --concurrency 4 --form columnar "${extra[@]}" >"$TMP/load" 2>&1 &
    load=$!
    sleep 2.3
    t0=$(ticks)
    sleep 5.4
    t1=$(ticks)
    wait "$load"
    rate=$(grep -o '[0-9]* accounts/s' "$TMP/load" | awk '{print $1}')
    [ -n "$rate" ] && [ "$rate" -gt 0 ] || { cat "$TMP/load" >&2; exit 1; }
    awk -v m="$mode" -v t=$((t1 - t0)) -v hz="$hz" -v a="$rate" 'BEGIN {
      printf "%-8s %9d accounts/s  server CPU %4.0f ns per account\n",
             m, a, t / hz * 1e9 / (a * 5.4) }'
  done
done
