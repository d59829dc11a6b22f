#!/usr/bin/env bash
# Runs docs/writing-plugins.md end to end, the way an engineer would: install
# the SDK to a temporary prefix with `cmake --install`, build the example
# plugin from a separate directory with find_package(healthscore), then load
# it with `healthscore validate`, score a file with `healthscore score`, and
# serve it with healthscore-server.
#
# The steps are not repeated here: they are read from the page. A fenced block
# preceded by `<!-- e2e: file PATH -->` is written to PATH (relative to a
# fresh work directory); one preceded by `<!-- e2e: run -->` is run. Blocks
# run in page order in one bash shell (so `cd` carries over) with `set -eu
# -o pipefail`, after setting HEALTHSCORE_BUILD and SDK_PREFIX as the page
# asks the reader to.
#
# Usage: tests/plugin_sdk_e2e.sh BUILD_DIR [--keep]
#   BUILD_DIR  a configured and built Healthscore build directory
#   --keep     keep the work directory (printed) for inspection
# Registered with CTest as `plugin_sdk_e2e` (plugins/CMakeLists.txt).

set -euo pipefail

if [[ $# -lt 1 || ! -d "$1" ]]; then
  echo "usage: $0 BUILD_DIR [--keep]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
keep=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
doc="$here/docs/writing-plugins.md"

for tool in cli/healthscore server/healthscore-server bench/load/healthscore-load; do
  if [[ ! -x "$build/$tool" ]]; then
    echo "plugin_sdk_e2e: $build/$tool is not built; build it first" >&2
    exit 1
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/hs-plugin-e2e.XXXXXX")
if [[ "$keep" == "--keep" ]]; then
  echo "plugin_sdk_e2e: work directory $work"
else
  trap 'rm -rf "$work"' EXIT
fi

# Turn the page into one script.
script="$work/walkthrough.sh"
awk -v work="$work" '
  BEGIN {
    print "set -euo pipefail"
    print "trap '\''jobs -p | xargs -r kill 2>/dev/null || true'\'' EXIT"
    print "cd \"" work "\""
    mode = ""; in_block = 0; step = 0
  }
  /^<!-- e2e: file [^ ]+ -->$/ { mode = "file"; path = $4; next }
  /^<!-- e2e: run -->$/ { mode = "run"; next }
  /^```/ {
    if (!in_block && mode != "") {
      in_block = 1
      if (mode == "file") {
        print "mkdir -p \"$(dirname \"" work "/" path "\")\""
        print "cat > \"" work "/" path "\" <<'\''HS_E2E_EOF'\''"
      } else {
        step++
        print "echo \"== walkthrough step " step "\" >&2"
      }
      next
    }
    if (in_block) {
      if (mode == "file") print "HS_E2E_EOF"
      in_block = 0; mode = ""
      next
    }
  }
  in_block { print }
  END { print "echo \"== walkthrough: all " step " steps passed\" >&2" }
' "$doc" > "$script"

if ! grep -q "find_package(healthscore" "$script"; then
  echo "plugin_sdk_e2e: no walkthrough found in $doc" >&2
  exit 1
fi

export HEALTHSCORE_BUILD="$build"
export SDK_PREFIX="$work/prefix"
bash "$script"
