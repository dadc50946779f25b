#!/usr/bin/env bash
# Builds Arcana's container image without a Docker daemon:
#
#   deployment/container/build.sh [--tag NAME:TAG] [--archive FILE.tar] [--engine buildah|docker]
#
# 1. compiles the `arcana` binary statically (the tier binaries are links to it: it runs as the
#    tier it is named after, so one release link serves all five names): for
#    x86_64-unknown-linux-musl when that target and a musl C compiler (Debian: musl-tools) are
#    available, otherwise for the gnu target with
#    `+crt-static` (glibc's resolver then cannot load NSS modules: fine for DNS, not for
#    /etc/nsswitch.conf tricks);
# 2. refuses any binary that still asks for a dynamic loader;
# 3. stages the image context (binaries, config/, an empty data folder) and builds
#    deployment/container/Containerfile with buildah (vfs storage, chroot isolation: no daemon,
#    no privileges beyond root) or docker;
# 4. with --archive, also writes the image as an OCI archive (`skopeo`/`podman load`/registries).
set -euo pipefail
cd "$(dirname "$0")/../.."

tag="arcana:dev"
archive=""
engine="$(command -v buildah >/dev/null && echo buildah || echo docker)"
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --archive) archive="$2"; shift 2 ;;
    --engine) engine="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

target_dir="${CARGO_TARGET_DIR:-target}"
tiers=(arcana-controller arcana-service arcana-repository arcana-worker)

if rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1 && command -v musl-gcc >/dev/null; then
  triple=x86_64-unknown-linux-musl
  cargo build --release --locked --target "$triple" -p arcana-bootstrap --bin arcana
else
  echo "build.sh: no musl target or musl-gcc; building glibc binaries with +crt-static" >&2
  triple=x86_64-unknown-linux-gnu
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --locked --target "$triple" -p arcana-bootstrap --bin arcana
fi

context="$target_dir/image-context"
rm -rf "$context"
mkdir -p "$context/usr/local/bin" "$context/etc/arcana/config" "$context/var/lib/arcana/data"
path="$target_dir/$triple/release/arcana"
if readelf -l "$path" | grep -q 'program interpreter'; then
  echo "build.sh: $path is dynamically linked; refusing to put it in a scratch image" >&2
  exit 1
fi
# Debug information stays out of the image (it is most of the binary's size).
objcopy --strip-debug "$path" "$context/usr/local/bin/arcana"
# Relative links: COPY keeps them as links, so the image holds one copy of the binary.
for tier in "${tiers[@]}"; do ln -s arcana "$context/usr/local/bin/$tier"; done
cp config/*.toml "$context/etc/arcana/config/"

case "$engine" in
  buildah)
    buildah --storage-driver vfs bud --isolation chroot --layers=false \
      -f deployment/container/Containerfile -t "$tag" "$context"
    if [ -n "$archive" ]; then
      rm -f "$archive"
      buildah --storage-driver vfs push "$tag" "oci-archive:$archive:$tag"
    fi
    ;;
  docker)
    docker build -f deployment/container/Containerfile -t "$tag" "$context"
    if [ -n "$archive" ]; then docker save -o "$archive" "$tag"; fi
    ;;
  *) echo "build.sh: --engine buildah or docker" >&2; exit 2 ;;
esac
echo "build.sh: built $tag ($triple)"
