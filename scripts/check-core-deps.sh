#!/usr/bin/env bash
# The dependency rule (SPEC §1): the domain and the ports know no I/O runtime, framework, driver
# or wire format. Fails if arcana-domain or arcana-ports depend, even transitively, on one.
set -euo pipefail
cd "$(dirname "$0")/.."

banned='^(tokio|axum|tonic|sqlx|diesel|diesel-async|redis|wasmtime|serde_json|hyper|reqwest|prost)$'
status=0
for crate in arcana-domain arcana-ports; do
  found=$(cargo tree -p "$crate" -e normal --prefix none --format '{p}' --all-features \
    | awk '{print $1}' | sort -u | grep -E "$banned" || true)
  if [ -n "$found" ]; then
    echo "dependency rule broken: $crate depends on: $(echo $found)"
    status=1
  else
    echo "dependency rule holds for $crate"
  fi
done
exit $status
