#!/usr/bin/env bash
# Runs the foreign-language clients (examples/python, examples/node) against
# a real healthscore-server on an ephemeral port, then stops the server with
# SIGTERM and checks that it exits 0. The Python client's output must be what
# README.md and docs/api.md show.
#
# Usage: tests/foreign_clients.sh [BUILD_DIR]
#   BUILD_DIR defaults to build/; the server binary is BUILD_DIR/server/
#   healthscore-server (or $HEALTHSCORE_SERVER). Models: $HEALTHSCORE_MODELS,
#   default rules/ (the bundled models); plugins: $HEALTHSCORE_PLUGINS,
#   default BUILD_DIR/plugins/lib (the example plugins) when it exists.
#
# Needs: python3-grpcio, python3-protobuf, protoc, grpc_python_plugin
# (Debian packages) and node >= 18 with npm (installs examples/node's
# locked dependencies with `npm ci` when node_modules is missing).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
server=${HEALTHSCORE_SERVER:-$build/server/healthscore-server}
models=${HEALTHSCORE_MODELS:-$root/rules}
plugins=${HEALTHSCORE_PLUGINS:-$build/plugins/lib}
python=${PYTHON:-/usr/bin/python3}

[ -x "$server" ] || { echo "foreign_clients: no server binary at $server" >&2; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

plugin_flags=()
[ -d "$plugins" ] && plugin_flags=(--plugins "$plugins")
"$server" --listen 127.0.0.1:0 --port-file "$work/port" --models "$models" \
  "${plugin_flags[@]}" 2> "$work/server.log" &
pid=$!

for _ in $(seq 1 300); do
  [ -s "$work/port" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "foreign_clients: server exited early:" >&2; cat "$work/server.log" >&2; exit 1
  fi
  sleep 0.1
done
[ -s "$work/port" ] || { echo "foreign_clients: server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
target="127.0.0.1:$(cat "$work/port")"
echo "foreign_clients: server on $target"

status=0
echo "== python (grpcio $("$python" -c 'import grpc; print(grpc.__version__)'))"
"$python" "$root/examples/python/score_client.py" "$target" > "$work/python.out" 2>&1 || status=1
cat "$work/python.out"

# README.md and docs/api.md show this output in blocks marked
# <!-- doc-client-output: python --> (a `$ ` line there is the command): a
# transcript in the docs is a test, so it must be what the client printed.
for doc in README.md docs/api.md; do
  if ! awk '
      marked && /^```/ { inside = 1; marked = 0; next }
      inside && /^```/ { inside = 0; blocks++; next }
      inside && !/^\$ / { print }
      { marked = ($0 == "<!-- doc-client-output: python -->") }
      END { exit blocks == 1 ? 0 : 3 }' "$root/$doc" > "$work/expected.out"; then
    echo "foreign_clients: $doc needs one block marked <!-- doc-client-output: python -->" >&2
    status=1
  elif ! diff -u --label "$doc shows" --label "the Python client printed" \
      "$work/expected.out" "$work/python.out" >&2; then
    echo "foreign_clients: the Python client's output in $doc is out of date" >&2
    status=1
  else
    echo "== $doc shows the Python client's output"
  fi
done

echo "== node ($(node --version))"
if [ ! -d "$root/examples/node/node_modules" ]; then
  (cd "$root/examples/node" && npm ci --no-audit --no-fund --silent)
fi
node "$root/examples/node/score_client.js" "$target" || status=1

kill -TERM "$pid"
if wait "$pid"; then
  echo "== server stopped cleanly"
else
  echo "foreign_clients: server exited with $? after SIGTERM" >&2; status=1
fi
pid=""
if [ $status -ne 0 ]; then
  echo "--- server log ---" >&2; cat "$work/server.log" >&2
fi
exit $status
