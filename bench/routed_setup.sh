# Sourced by bench/routed_cpu.sh and bench/routed_instructions.sh, from the
# repository's top: a scratch directory $TMP, removed on exit with the
# server $SERVER_PID when one is running, holding the server tests' models
# with server/testdata/routing laid over them ($TMP/models), where `default`
# sends the `enterprise` segment to another model.
TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
cp -r server/testdata/rules "$TMP/models"
cp -r server/testdata/routing/. "$TMP/models/"

# start_server [COMMAND...]: starts $BUILD's healthscore-server on those
# models (under COMMAND, such as valgrind, when given) on an ephemeral port
# of 127.0.0.1, sets SERVER_PID, and waits for its port ($TMP/port).
start_server() {
  rm -f "$TMP/port"
  "$@" "$BUILD/server/healthscore-server" --listen 127.0.0.1:0 \
    --port-file "$TMP/port" --models "$TMP/models" --threads 2 \
    2>"$TMP/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 600); do [ -s "$TMP/port" ] && break; sleep 0.1; done
  [ -s "$TMP/port" ] || { cat "$TMP/server.log" >&2; exit 1; }
}
