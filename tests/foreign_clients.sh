#!/usr/bin/env bash
# Runs the foreign-language clients (examples/python, examples/node) against
# a real healthscore-server on an ephemeral port, then stops the server with
# SIGTERM and checks that it exits 0. The Python client's output must be what
# README.md and docs/api.md show. Then the same clients again over mTLS with
# a bearer token (certificates made with openssl at run time), against a
# server started with --tls-cert, --tls-client-ca, --admin-token-file and
# --auth-token-file; a Python client without a token must be refused.
#
# Usage: tests/foreign_clients.sh [BUILD_DIR]
#   BUILD_DIR defaults to build/; the server binary is BUILD_DIR/server/
#   healthscore-server (or $HEALTHSCORE_SERVER). Models: $HEALTHSCORE_MODELS,
#   default rules/ (the bundled models); plugins: $HEALTHSCORE_PLUGINS,
#   default BUILD_DIR/plugins/lib (the example plugins) when it exists.
#
# Needs: python3-grpcio, python3-protobuf, protoc, grpc_python_plugin,
# openssl (Debian packages) and node >= 18 with npm (installs examples/node's
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

# start_server NAME [FLAGS...]: starts the server on an ephemeral port and
# sets $pid and $target.
start_server() {
  local name=$1; shift
  rm -f "$work/port"
  "$server" --listen 127.0.0.1:0 --port-file "$work/port" --models "$models" \
    "${plugin_flags[@]}" "$@" 2> "$work/server-$name.log" &
  pid=$!
  for _ in $(seq 1 300); do
    [ -s "$work/port" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "foreign_clients: server ($name) exited early:" >&2; cat "$work/server-$name.log" >&2; exit 1
    fi
    sleep 0.1
  done
  [ -s "$work/port" ] || { echo "foreign_clients: server ($name) did not start" >&2; cat "$work/server-$name.log" >&2; exit 1; }
  target="127.0.0.1:$(cat "$work/port")"
  echo "foreign_clients: $name server on $target"
}

# stop_server NAME: SIGTERM, and the server must exit 0.
stop_server() {
  kill -TERM "$pid"
  if wait "$pid"; then
    echo "== $1 server stopped cleanly"
  else
    echo "foreign_clients: $1 server exited with $? after SIGTERM" >&2; status=1
  fi
  pid=""
  if [ $status -ne 0 ]; then
    echo "--- $1 server log ---" >&2; cat "$work/server-$1.log" >&2
  fi
}

# As the README's development server (scripts/run.sh): plaintext on
# loopback, admin calls open.
start_server plaintext --allow-unauthenticated-admin=true

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

stop_server plaintext

# The same clients over mTLS with bearer tokens: certificates made here
# with openssl (a CA, the server's, a client's), an admin token (the clients
# call ValidateModel) and a scoring token.
echo "== TLS: certificates from openssl $(openssl version | cut -d' ' -f2)"
(
  cd "$work"
  for ca in ca client-ca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout $ca.key -out $ca.pem -days 2 -subj "/CN=foreign clients $ca"
  done
  leaf() {  # name ca san usage
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout $1.key -out $1.csr -subj "/CN=$1"
    printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$3" "$4" > $1.ext
    openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial \
      -days 2 -extfile $1.ext -out $1.pem
  }
  leaf server ca 'DNS:localhost,IP:127.0.0.1' serverAuth
  leaf client client-ca 'DNS:client.example' clientAuth
  echo "admin-token-for-ci" > admin-token
  echo "scoring-token-for-ci" > scoring-token
) > "$work/openssl.log" 2>&1 || { cat "$work/openssl.log" >&2; exit 1; }
start_server tls --tls-cert "$work/server.pem" --tls-key "$work/server.key" \
  --tls-client-ca "$work/client-ca.pem" \
  --admin-token-file "$work/admin-token" --auth-token-file "$work/scoring-token"
tls_flags=(--tls-ca "$work/ca.pem" --tls-cert "$work/client.pem"
           --tls-key "$work/client.key" --token-file "$work/admin-token")

echo "== python over mTLS with a token"
if "$python" "$root/examples/python/score_client.py" "${tls_flags[@]}" "$target" \
    > "$work/python-tls.out" 2>&1; then
  # The same answers as in clear.
  diff -u --label "in clear" --label "over TLS" "$work/python.out" "$work/python-tls.out" >&2 || status=1
else
  cat "$work/python-tls.out" >&2; status=1
fi
tail -n 1 "$work/python-tls.out"
# Without the token the server refuses the admin call (the client stops at
# its first failure, so a non-zero exit is expected here).
if "$python" "$root/examples/python/score_client.py" --tls-ca "$work/ca.pem" \
    --tls-cert "$work/client.pem" --tls-key "$work/client.key" "$target" \
    > "$work/python-notoken.out" 2>&1; then
  echo "foreign_clients: a client without a token was not refused" >&2; status=1
elif ! grep -q "UNAUTHENTICATED" "$work/python-notoken.out"; then
  echo "foreign_clients: a client without a token failed otherwise:" >&2
  cat "$work/python-notoken.out" >&2; status=1
else
  echo "== python without a token: refused UNAUTHENTICATED"
fi

echo "== node over mTLS with a token"
node "$root/examples/node/score_client.js" "${tls_flags[@]}" "$target" || status=1

stop_server tls
exit $status
