#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and starts
# the scoring server on 127.0.0.1:50051 with the bundled models (rules/) and
# the example plugins (plugins/). Stop it with Ctrl-C. Arguments are passed
# to `healthscore serve` (see `healthscore serve --help`).
#
# A development server on loopback: admin calls (Reload, ValidateModel) are
# open here (--allow-unauthenticated-admin), as the README's tour makes them;
# an installed or deployed server refuses them until --admin-token-file or
# --admin-allow-san is set (docs/operations.md, "Security").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${HEALTHSCORE_BUILD_DIR:-$root/build}"

"$root/scripts/build.sh"
cd "$root"
exec "$build/cli/healthscore" serve --models "$root/rules" \
  --plugins "$build/plugins/lib" --allow-unauthenticated-admin=true "$@"
