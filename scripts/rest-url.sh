# Sourced by the scripts that start `arcana serve` in the background (scripts/fuzz-openapi.sh,
# deployment/container/smoke.sh). rest_url PID LOG WHO: waits up to 10 s for the server's
# "arcana: REST listening on URL" line in LOG and prints URL; exits the script (showing LOG) if
# the process dies or never listens.
rest_url() {
  local pid="$1" log="$2" who="$3" url=""
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^arcana: REST listening on //p' "$log" | head -n 1)
    [ -n "$url" ] && { echo "$url"; return; }
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "$who: arcana serve exited" >&2; exit 1; }
    sleep 0.1
  done
  cat "$log" >&2
  echo "$who: arcana serve did not listen" >&2
  exit 1
}
