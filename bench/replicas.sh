#!/usr/bin/env bash
# Throughput with 1, 2 and 3 replicas of healthscore-server on this machine,
# through gRPC's client-side round_robin (deploy/grpc/service_config.json),
# then 3 replicas through nginx (deploy/nginx/healthscore.conf), with
# healthscore-load (bench/README.md, "Replicas"). Every replica and the
# client share the machine's cores: this shows what balancing costs and
# that it spreads evenly, not what more machines would add.
#
#   bench/replicas.sh [BUILD_DIR] [extra healthscore-load flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
SERVER=$BUILD/server/healthscore-server
LOAD=$BUILD/bench/load/healthscore-load
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

for n in 1 2 3; do
  targets=()
  for i in $(seq 1 "$n"); do
    "$SERVER" --listen 127.0.0.1:0 --port-file "$TMP/port-$n-$i" \
      --models rules --plugins "$BUILD/plugins/lib" 2>"$TMP/log-$n-$i" &
    PIDS+=($!)
  done
  for i in $(seq 1 "$n"); do
    for _ in $(seq 1 300); do [ -s "$TMP/port-$n-$i" ] && break; sleep 0.1; done
    targets+=("127.0.0.1:$(cat "$TMP/port-$n-$i")")
  done
  target="ipv4:$(IFS=,; echo "${targets[*]}")"
  echo "== $n replica(s): $target (load average $(cut -d' ' -f1 /proc/loadavg))"
  "$LOAD" --target "$target" --service-config deploy/grpc/service_config.json \
    --scenario batch --form columnar --batch 1024 --concurrency 8 \
    --connections 2 --duration 8 --warmup 2 "$@"
  if [ "$n" = 3 ] && [ -x /usr/sbin/nginx ]; then
    # The example configuration with these replicas' ports and its files in
    # $TMP, nginx in the foreground as one process.
    sed -e "s#127.0.0.1:50051#${targets[0]}#; s#127.0.0.1:50052#${targets[1]}#" \
        -e "s#127.0.0.1:50053#${targets[2]}#; s#127.0.0.1:8080#127.0.0.1:18080#" \
        -e "s#/run/nginx-healthscore.pid#$TMP/nginx.pid#" \
        -e "s#/var/log/nginx/#$TMP/#" \
        -e "s#^http {#http {\n  client_body_temp_path $TMP/body;\n  proxy_temp_path $TMP/proxy;\n  fastcgi_temp_path $TMP/fastcgi;\n  uwsgi_temp_path $TMP/uwsgi;\n  scgi_temp_path $TMP/scgi;#" \
        deploy/nginx/healthscore.conf > "$TMP/nginx.conf"
    /usr/sbin/nginx -p "$TMP" -e "$TMP/healthscore-error.log" -c "$TMP/nginx.conf" \
      -g 'daemon off; master_process off;' &
    PIDS+=($!)
    sleep 1
    echo "== $n replica(s) through nginx (load average $(cut -d' ' -f1 /proc/loadavg))"
    "$LOAD" --target 127.0.0.1:18080 \
      --service-config deploy/grpc/proxy_service_config.json \
      --scenario batch --form columnar --batch 1024 --concurrency 8 \
      --connections 2 --duration 8 --warmup 2 "$@"
  fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
done
