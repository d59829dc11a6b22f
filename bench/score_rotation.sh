#!/usr/bin/env bash
# Times `healthscore score` file to file for several builds: every build
# runs ROUNDS times, each round in a new random order, so that no build
# always runs after the same other one (on a virtual machine the run after
# another pays for the output pages that run freed; bench/README.md, "One
# pass, ninth round"). The output is removed and
# synced before each run. Prints every run's wall time and the medians of
# wall, user and system time per build. Needs GNU time (/usr/bin/time,
# Debian's `time` package).
#
#   bench/score_rotation.sh ROUNDS MODEL INPUT BUILD_BINARY...
#   OUTPUT=/dev/null bench/score_rotation.sh ...   (no file written)
set -euo pipefail
if [ ! -x /usr/bin/time ]; then
  echo "$0: needs GNU time: apt-get install time" >&2
  exit 2
fi
if [ $# -lt 4 ]; then
  echo "usage: $0 ROUNDS MODEL INPUT BUILD_BINARY..." >&2
  exit 2
fi
rounds=$1 model=$2 input=$3
shift 3
builds=("$@")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
out=${OUTPUT:-$scratch/out.jsonl}
times=$scratch/times
n=${#builds[@]}
for ((r = 0; r < rounds; ++r)); do
  for k in $(shuf -e $(seq 0 $((n - 1)))); do
    [ "$out" = /dev/null ] || rm -f "$out"
    sync
    /usr/bin/time -f "$k %e %U %S" -a -o "$times" "${builds[$k]}" score \
      --model "$model" --input "$input" --output "$out" --quiet
  done
done
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for ((k = 0; k < n; ++k)); do
  runs=$(awk -v k="$k" '$1 == k {print $2}' "$times" | sort -n | tr '\n' ' ')
  wall=$(awk -v k="$k" '$1 == k {print $2}' "$times" | median)
  user=$(awk -v k="$k" '$1 == k {print $3}' "$times" | median)
  sys=$(awk -v k="$k" '$1 == k {print $4}' "$times" | median)
  echo "${builds[$k]}: ${runs}s; medians: wall ${wall} s, user ${user} s, system ${sys} s"
done
