#!/usr/bin/env bash
# Attacks the merchant API with schemathesis (PyPI), generated from paygate's own /openapi.json:
# a sandbox server on a fresh SQLite file, the development key, MAX_EXAMPLES cases per
# operation (default 200, the run reported in docs/SECURITY.md; .ci/run uses 30), a fixed
# seed. Every check but one must pass: no 5xx, every error a problem document as documented,
# every answer as its schema says, invalid input refused. Left out: positive_data_acceptance
# (ST202), which expects every schema-valid request to succeed; paygate's rules that a schema
# cannot state (the currency exists, the amount fits its decimals, amount or line items, ids that
# exist, an Idempotency-Key not reused with other parameters) refuse some, each with a
# documented 4xx problem document that the other checks verify.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
examples=${1:-200}
version=4.32.5
if ! schemathesis --version 2>/dev/null | grep -q "$version"; then
  python3 -m pip install --quiet "schemathesis==$version"
fi
cargo build --quiet -p paygate-server --bin paygate
work=$(mktemp -d)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api=$(port); sandbox=$(port)
DATABASE_URL="sqlite://$work/schemathesis.db" PAYGATE_LISTEN="127.0.0.1:$api" \
  PAYGATE_SANDBOX_LISTEN="127.0.0.1:$sandbox" PAYGATE_ASSETS_DIR=dist PAYGATE_LOG=warn \
  PAYGATE_MERCHANT_RATE_LIMIT=0 PAYGATE_WIDGET_RATE_LIMIT=0 \
  target/debug/paygate serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$api/healthz" >/dev/null && break
  sleep 0.2
done
schemathesis run "http://127.0.0.1:$api/openapi.json" \
  --header "Authorization: Bearer sk_test_paygate_dev" \
  --checks all --exclude-checks positive_data_acceptance \
  --max-examples "$examples" --seed 1 --continue-on-failure
if grep -qE "panicked|(^|[[:space:]])ERROR[[:space:]]" "$work/server.log"; then
  echo "schemathesis: the server logged errors:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
