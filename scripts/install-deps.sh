#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the examples need.
# Idempotent and quiet: prints nothing and touches nothing when all is there.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libabsl-dev libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  # The standard grpc.health.v1 and grpc.reflection.v1 protos the server
  # compiles in, so reflection can describe them (proto/CMakeLists.txt).
  grpc-proto
  # The server's Prometheus endpoint (server/metrics.h).
  libcivetweb-dev
  libyaml-cpp-dev libsimdjson-dev libssl-dev
  # fmt, header-only: the shortest digits of a double (number_format.cc).
  libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # The foreign clients CI runs against the server (examples/).
  python3 python3-grpcio python3-protobuf
  # Test certificates for TLS and mTLS (tests/server_tls_test.cc,
  # tests/foreign_clients.sh), made with the openssl command at test time;
  # curl scrapes the metrics endpoint over HTTPS as Prometheus would.
  openssl curl
  # The HTML report is checked and screenshotted in a real browser
  # (tests/report_browser_test.cc), with a font for the screenshot.
  chromium fonts-dejavu-core
  # tests/backtest_reference.py checks the backtest and tune against
  # scikit-learn, tests/portfolio_reference.py the portfolio metrics against
  # pandas (references in those tests only).
  python3-numpy python3-sklearn python3-pandas
  # The Python package (python/, docs/python.md): pybind11 builds the
  # extension for the system Python; Dask and distributed run the bulk
  # scoring and its test (python/tests).
  pybind11-dev python3-dev python3-dask python3-distributed
  # tests/install_test.cc checks the installed unit with systemd-analyze.
  systemd
  # tests/scaleout_test.cc balances replicas through nginx's grpc_pass
  # (deploy/nginx/).
  nginx
)
if [ -n "${HEALTHSCORE_EXTRA_PACKAGES:-}" ]; then
  # shellcheck disable=SC2206
  PACKAGES+=(${HEALTHSCORE_EXTRA_PACKAGES})
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js (>= 18, with npm) for examples/node: any install will do, so only
# the commands are checked; Debian's packages are the fallback.
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
