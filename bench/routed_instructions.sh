#!/usr/bin/env bash
# Server instructions per unrouted, routed and shadow columnar request,
# counted by valgrind's callgrind (bench/README.md, "One pass, eleventh round"). CPU
# time on a shared 2-vCPU machine swings by a third from minute to minute
# (bench/routed_cpu.sh); an instruction count does not, so two builds
# compare exactly, and the ratio tracks the time ratio when the work is of
# the same kind.
#
# The same setup as bench/routed_cpu.sh: the server tests' models with
# server/testdata/routing laid over them, requests of 1,024 accounts in the
# columnar form for `default`, whose route sends `enterprise` accounts to
# another model. The server runs under callgrind four times: with no
# request (start and stop), then CALLS unrouted requests (routes ignored),
# CALLS routed ones, and CALLS shadow ones (routes ignored, `enterprise` the
# candidate); a request costs its run's count less the first, over CALLS.
#
#   bench/routed_instructions.sh [BUILD_DIR] [CALLS]
#
# Needs valgrind (apt-get install valgrind); takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CALLS=${2:-50}
command -v valgrind >/dev/null || {
  echo "needs valgrind: apt-get install valgrind" >&2
  exit 1
}
# shellcheck source=bench/routed_setup.sh
. bench/routed_setup.sh

# run MODE: the server's instruction count over a run with CALLS requests
# of MODE (none, unrouted, routed, shadow).
run() {
  local mode=$1
  start_server valgrind --tool=callgrind --callgrind-out-file="$TMP/$mode.out"
  if [ "$mode" != none ]; then
    local extra=()
    [ "$mode" = unrouted ] && extra=(--ignore-routes)
    [ "$mode" = shadow ] && extra=(--ignore-routes --shadow enterprise)
    # An open loop of 5 calls a second: CALLS requests in all.
    "$BUILD/bench/load/healthscore-load" --target "127.0.0.1:$(cat "$TMP/port")" \
      --rate 5 --duration $((CALLS / 5)) --warmup 0 --model default \
      --scenario batch --batch 1024 --form columnar "${extra[@]}" \
      >"$TMP/load" 2>&1 || { cat "$TMP/load" >&2; exit 1; }
    grep -q "errors 0" "$TMP/load" || { cat "$TMP/load" >&2; exit 1; }
  fi
  kill -INT "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=""
  callgrind_annotate "$TMP/$mode.out" 2>/dev/null |
    awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}

none=$(run none)
unrouted=$(run unrouted)
routed=$(run routed)
shadow=$(run shadow)
awk -v n="$none" -v u="$unrouted" -v r="$routed" -v s="$shadow" -v c="$CALLS" 'BEGIN {
  pu = (u - n) / c; pr = (r - n) / c; ps = (s - n) / c
  printf "unrouted %10.0f instructions per request, %5.0f per account\n", pu, pu / 1024
  printf "routed   %10.0f instructions per request, %5.0f per account\n", pr, pr / 1024
  printf "shadow   %10.0f instructions per request, %5.0f per account\n", ps, ps / 1024
  printf "routed / unrouted %.3f, shadow / unrouted %.3f\n", pr / pu, ps / pu }'
