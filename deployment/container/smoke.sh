#!/usr/bin/env bash
# Runs binaries from a built image the way a container runtime would, without one: mounts the
# image's root filesystem (buildah, vfs storage) and chroots into it as the image's user. Needs
# root (as CI has). Checks the image's metadata, `arcana --version`, and `arcana serve` on
# `memory:` answering /health.
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
cmd=(/usr/local/bin/arcana serve)
as_image_user ARCANA_DATABASE__URL=memory: ARCANA_SERVER__REST__PORT=0 ARCANA_SERVER__GRPC__PORT=0 > "$log" 2>&1 &
server=$!
url=$(rest_url "$server" "$log" smoke)
body=$(curl -fsS "$url/health")
echo "smoke: $url/health -> $body"
[ "$body" = '{"status":"ok"}' ]
echo "smoke: image size $(b images --format '{{.Size}}' "$image")"
