#!/usr/bin/env bash
# CTest kubernetes_manifests: validates deploy/kubernetes/*.yaml offline, no
# cluster needed, and proves the validator rejects broken manifests.
#
#   1. Installs the locked npm packages of deploy/kubernetes/package.json
#      (kubernetes-models, yaml) with `npm ci` into the build tree
#      (BUILD/deploy/kubernetes-validate/node_modules), once per lock file,
#      beside a copy of validate.mjs, which resolves its imports there.
#   2. Validates every manifest against the Kubernetes schemas and against
#      each other (validate.mjs), and extracts the models the ConfigMap
#      carries as the pods would see them: they must pass `healthscore
#      validate` and `healthscore test`.
#   3. Negative cases, written to a temporary directory: broken copies of
#      the real manifests and a few made-up ones must each be rejected with
#      the expected message.
#
# Usage: kubernetes_manifests.sh SOURCE_DIR BUILD_DIR HEALTHSCORE
# Needs node >= 18 and npm (scripts/install-deps.sh), and the npm registry
# the first time (or after package-lock.json changes).
set -euo pipefail

src=$1
build=$2
healthscore=$3
manifests=("$src"/deploy/kubernetes/*.yaml)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

command -v node >/dev/null || fail "node is not installed (scripts/install-deps.sh)"
command -v npm >/dev/null || fail "npm is not installed (scripts/install-deps.sh)"

npm_dir="$build/deploy/kubernetes-validate"
mkdir -p "$npm_dir"
cp "$src/deploy/kubernetes/package.json" "$src/deploy/kubernetes/package-lock.json" \
   "$src/deploy/kubernetes/validate.mjs" "$npm_dir/"
stamp="$npm_dir/node_modules/.healthscore-installed-lock"
if ! cmp -s "$npm_dir/package-lock.json" "$stamp"; then
  (cd "$npm_dir" && npm ci --no-audit --no-fund --silent)
  cp "$npm_dir/package-lock.json" "$stamp"
fi
validate=(node "$npm_dir/validate.mjs")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hs_kubernetes.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# --- The real manifests ------------------------------------------------------
out=$("${validate[@]}" --extract-models "$tmp/extract" "${manifests[@]}" 2>&1) ||
  fail "the manifests of deploy/kubernetes do not validate:"$'\n'"$out"
expected="ok: ${#manifests[@]} Kubernetes objects in ${#manifests[@]} files"
[ "$out" = "$expected" ] || fail "expected '$expected', got: $out"
echo "$out"

models="$tmp/extract/models"
[ -f "$models/starter/1/model.yaml" ] ||
  fail "the ConfigMap's models were not extracted to $models"
"$healthscore" validate "$models" >"$tmp/validate.log" 2>&1 ||
  fail "the ConfigMap's models do not validate: $(cat "$tmp/validate.log")"
for version in "$models"/*/*/; do
  "$healthscore" test --fail-on-empty "$version" >"$tmp/test.log" 2>&1 ||
    fail "the ConfigMap's model $version fails its tests: $(cat "$tmp/test.log")"
done
echo "ok: the ConfigMap's models validate and pass their tests"

# --- Negative cases ----------------------------------------------------------
# expect_rejected NAME MESSAGE FILE...: the validator exits 1 and prints
# MESSAGE.
expect_rejected() {
  local name=$1 message=$2
  shift 2
  local status=0
  out=$("${validate[@]}" "$@" 2>&1) || status=$?
  [ "$status" -eq 1 ] || fail "$name: expected exit 1, got $status: $out"
  grep -qF -- "$message" <<<"$out" ||
    fail "$name: expected '$message' in: $out"
  echo "ok: $name rejected"
}

neg="$tmp/negative"
mkdir -p "$neg"
deployment="$src/deploy/kubernetes/deployment.yaml"
configmap="$src/deploy/kubernetes/configmap-models.yaml"

# A probe's port given by name: native gRPC probes take a number only.
sed 's/^\(              port:\) 50051$/\1 grpc/' "$deployment" >"$neg/probe-port.yaml"
grep -q 'port: grpc$' "$neg/probe-port.yaml" || fail "probe-port: the edit did not apply"
expect_rejected "a named gRPC probe port" \
  "/spec/template/spec/containers/0/readinessProbe/grpc/port must be integer" \
  "$neg/probe-port.yaml" "$configmap"

# replicas as text.
sed 's/^  replicas: 3 /  replicas: three /' "$deployment" >"$neg/replicas.yaml"
grep -q '^  replicas: three ' "$neg/replicas.yaml" || fail "replicas: the edit did not apply"
expect_rejected "replicas as text" "/spec/replicas must be integer" \
  "$neg/replicas.yaml" "$configmap"

# A required field missing: a pod template without containers.
cat >"$neg/no-containers.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: empty}
spec:
  selector: {matchLabels: {app: empty}}
  template:
    metadata: {labels: {app: empty}}
    spec: {}
EOF
expect_rejected "a pod without containers" \
  "/spec/template/spec must have required property containers" \
  "$neg/no-containers.yaml"

# An unknown kind and an unknown apiVersion are errors, not skipped.
cat >"$neg/kinds.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deploymnet
metadata: {name: typo}
EOF
expect_rejected "an unknown kind" 'unknown kind "Deploymnet" in apps/v1' "$neg/kinds.yaml"
cat >"$neg/api.yaml" <<'EOF'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
EOF
expect_rejected "an unknown apiVersion" \
  'unknown apiVersion "example.com/v1" (not in kubernetes-models)' "$neg/api.yaml"

# The Deployment's volume names a key the ConfigMap does not have.
sed 's/^  starter-1-tests.yaml: |$/  starter-1-test.yaml: |/' "$configmap" >"$neg/configmap.yaml"
expect_rejected "a ConfigMap key the volume lists but the map lacks" \
  'key "starter-1-tests.yaml" is not in ConfigMap healthscore-models' \
  "$deployment" "$neg/configmap.yaml"

# A Service whose selector matches no pods, and one whose named targetPort
# is no container port.
sed 's/app.kubernetes.io\/name: healthscore$/app.kubernetes.io\/name: healthscor/' \
  "$src/deploy/kubernetes/service.yaml" >"$neg/service.yaml"
expect_rejected "a Service selecting nothing" "spec.selector selects no Deployment's pods" \
  "$deployment" "$configmap" "$neg/service.yaml"
sed 's/targetPort: grpc$/targetPort: grcp/' "$src/deploy/kubernetes/service.yaml" \
  >"$neg/target-port.yaml"
expect_rejected "a Service targetPort that names no port" \
  'targetPort "grcp" is no container port name' \
  "$deployment" "$configmap" "$neg/target-port.yaml"

# The autoscaler's target is not among the manifests.
expect_rejected "an HPA without its Deployment" \
  "scaleTargetRef Deployment healthscore is not among the manifests" \
  "$src/deploy/kubernetes/hpa.yaml"

# Not YAML at all.
printf 'spec: [1, 2\n' >"$neg/syntax.yaml"
expect_rejected "a YAML syntax error" "syntax.yaml: document 1: YAML:" "$neg/syntax.yaml"

echo "ok: every broken manifest was rejected"
