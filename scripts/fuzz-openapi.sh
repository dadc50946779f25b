#!/usr/bin/env bash
# Fuzzes the REST API from its own OpenAPI document with schemathesis (every check; settings in
# tests/fuzz/schemathesis.toml): starts `arcana serve` on `memory:` with a seeded superadmin on a
# free port, signs in as it, and fails on any failure schemathesis reports. Bounded in time.
#
#   scripts/fuzz-openapi.sh ARCANA_BINARY [SECONDS]      (default 120)
#
# Installs schemathesis (pinned) into a virtual environment under ~/.cache/arcana on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/rest-url.sh
arcana="$1"
seconds="${2:-120}"
venv="${ARCANA_FUZZ_VENV:-$HOME/.cache/arcana/fuzz-tools}"
pin="schemathesis==4.32.5"
if [ ! -f "$venv/.pins" ] || [ "$(cat "$venv/.pins")" != "$pin" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$pin"
  echo "$pin" > "$venv/.pins"
fi

export ARCANA_FUZZ_ADMIN=root
ARCANA_FUZZ_PASSWORD="fuzz-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ARCANA_FUZZ_PASSWORD
log=$(mktemp)
# Limits off: the fuzzer sends thousands of requests from one address by design (the limits
# have their own suites). The failed-login lockout too: its fuzzed sign-ins fail by the
# hundred from 127.0.0.1, and past rate_limit.login.ip_threshold the address is locked out,
# the superadmin's own sign-in with it, so every authenticated operation would fail for a
# lockout's length (how soon depends on the order operations are fuzzed in). Argon2 at its
# floor: sign-ins are part of the traffic.
env -i PATH="$PATH" ARCANA_CONFIG_DIR=/nonexistent ARCANA_DATABASE__URL=memory: \
  ARCANA_SERVER__REST__PORT=0 ARCANA_SERVER__GRPC__ENABLED=false \
  ARCANA_RATE_LIMIT__ENABLED=false ARCANA_SERVER__MAX_IN_FLIGHT=0 \
  ARCANA_RATE_LIMIT__LOGIN__IP_THRESHOLD=4000000000 \
  ARCANA_RATE_LIMIT__LOGIN__ACCOUNT_THRESHOLD=4000000000 \
  ARCANA_SECURITY__ARGON2__MEMORY_KIB=64 ARCANA_SECURITY__ARGON2__ITERATIONS=1 \
  ARCANA_BOOTSTRAP_ADMIN__USERNAME="$ARCANA_FUZZ_ADMIN" \
  ARCANA_BOOTSTRAP_ADMIN__EMAIL=root@example.com \
  ARCANA_BOOTSTRAP_ADMIN__PASSWORD="$ARCANA_FUZZ_PASSWORD" \
  "$arcana" serve > "$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
url=$(rest_url "$server" "$log" fuzz)

"$venv/bin/schemathesis" --no-color --config-file tests/fuzz/schemathesis.toml run \
  "$url/api-docs/openapi.json" --max-time "$seconds" --max-examples 30 \
  --continue-on-failure --seed "${ARCANA_FUZZ_SEED:-1}"
