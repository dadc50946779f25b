#!/usr/bin/env bash
# Runs binaries from a built image the way a container runtime would, without one: mounts the
# image's root filesystem (buildah, vfs storage) and chroots into it as the image's user. Needs
# root (as CI has). Checks the image's metadata, `arcana --version`, that each tier name runs as
# its tier, and `arcana serve` on `memory:` answering /health.
#
#   deployment/container/smoke.sh [IMAGE]      (default arcana:dev)
set -euo pipefail
# shellcheck source=../../scripts/rest-url.sh
source "$(dirname "$0")/../../scripts/rest-url.sh"
image="${1:-arcana:dev}"
b() { buildah --storage-driver vfs "$@"; }

user=$(b inspect --type image --format '{{.OCIv1.Config.User}}' "$image")
[ "$user" = "65532:65532" ] || { echo "smoke: image user is '$user', not 65532:65532" >&2; exit 1; }
env_vars=$(b inspect --type image --format '{{range .OCIv1.Config.Env}}{{println .}}{{end}}' "$image")
grep -qx 'ARCANA_CONFIG_DIR=/etc/arcana/config' <<<"$env_vars" || { echo "smoke: ARCANA_CONFIG_DIR unset" >&2; exit 1; }

container=$(b from --pull-never "$image")
root=$(b mount "$container")
log=$(mktemp)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  b umount "$container" >/dev/null || true
  b rm "$container" >/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

if [ -e "$root/bin/sh" ] || [ -e "$root/bin/busybox" ]; then
  echo "smoke: the image carries a shell" >&2; exit 1
fi
ls -l "$root/usr/local/bin" "$root/etc/arcana/config"
as_image_user() { env -i $env_vars "$@" chroot --userspec=65532:65532 "$root" "${cmd[@]}"; }

cmd=(/usr/local/bin/arcana --version)
as_image_user
# Each tier name is a link to `arcana` and must run as that tier: on the image's default
# (monolith) configuration each refuses to start, naming itself.
for tier in arcana-controller arcana-service arcana-repository arcana-worker; do
  [ "$(readlink "$root/usr/local/bin/$tier")" = arcana ] || { echo "smoke: $tier is not a link to arcana" >&2; exit 1; }
  cmd=("/usr/local/bin/$tier")
  if as_image_user ARCANA_DATABASE__URL=memory: > "$log" 2>&1; then
    echo "smoke: $tier started on the monolith configuration" >&2; exit 1
  fi
  grep -q "$tier" "$log" || { echo "smoke: $tier did not run as itself:" >&2; cat "$log" >&2; exit 1; }
  echo "smoke: $tier -> $(head -n 1 "$log")"
done

cmd=(/usr/local/bin/arcana serve)
as_image_user ARCANA_DATABASE__URL=memory: ARCANA_SERVER__REST__PORT=0 ARCANA_SERVER__GRPC__PORT=0 > "$log" 2>&1 &
server=$!
url=$(rest_url "$server" "$log" smoke)
body=$(curl -fsS "$url/health")
echo "smoke: $url/health -> $body"
[ "$body" = '{"status":"ok"}' ]
echo "smoke: image size $(b images --format '{{.Size}}' "$image")"
