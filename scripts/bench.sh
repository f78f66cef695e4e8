#!/usr/bin/env bash
# Benchmarks (not tests): criterion benches of money parsing/formatting and the log redaction
# filter, then the load generator against a release build of `paygate serve` on a fresh SQLite
# database on 127.0.0.1, then the widget's time to interactive in headless Chromium (needs the
# built front-end and Chromium; skipped with a message otherwise), then the admin history with
# a million seeded payments on SQLite and PostgreSQL (`scripts/bench.sh history` runs only
# that; HISTORY_ROWS changes the count), then merchant webhook delivery draining a backlog of
# 100,000 events (`scripts/bench.sh webhooks` alone; WEBHOOK_EVENTS). Results go in
# docs/BENCHMARKS.md by hand, with the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
CONCURRENCY=${CONCURRENCY:-16}

history_bench() { # the admin history with HISTORY_ROWS payments, SQLite then PostgreSQL
  cargo build --release -p paygate-tests --bin history_bench
  target/release/history_bench --backend sqlite --rows "${HISTORY_ROWS:-1000000}"
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    target/release/history_bench --backend postgres --rows "${HISTORY_ROWS:-1000000}"
  else
    echo "skipped PostgreSQL: nothing answers on 127.0.0.1:5432" >&2
  fi
}

webhook_bench() { # merchant webhook delivery: WEBHOOK_EVENTS drained, SQLite then PostgreSQL
  cargo build --release -p paygate-tests --bin webhook_bench
  target/release/webhook_bench --backend sqlite --events "${WEBHOOK_EVENTS:-100000}"
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    target/release/webhook_bench --backend postgres --events "${WEBHOOK_EVENTS:-100000}"
  else
    echo "skipped PostgreSQL: nothing answers on 127.0.0.1:5432" >&2
  fi
}

# `scripts/bench.sh history` runs only the admin history benchmark, `scripts/bench.sh webhooks`
# only the webhook delivery benchmark.
if [ "${1:-}" = "history" ]; then
  history_bench
  exit 0
fi
if [ "${1:-}" = "webhooks" ]; then
  webhook_bench
  exit 0
fi

echo "==> criterion: shared (money, provider encodings, redaction)"
cargo bench -p paygate-shared --bench money -- --noplot

echo "==> load: building release binaries"
cargo build --release --bin paygate -p paygate-server
cargo build --release --bin loadgen -p paygate-tests

work=$(mktemp -d)
port=${PORT:-18080}
PAYGATE_LISTEN=127.0.0.1:$port DATABASE_URL="sqlite://$work/bench.db" PAYGATE_LOG=warn \
PAYGATE_MERCHANT_RATE_LIMIT=0 PAYGATE_WIDGET_RATE_LIMIT=0 \
  target/release/paygate serve &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

for scenario in healthz widget-session create-session list-payments; do
  target/release/loadgen --url "http://127.0.0.1:$port" --scenario "$scenario" \
    --concurrency "$CONCURRENCY" --seconds "$SECONDS_PER_RUN"
done

echo "==> widget time to interactive (headless Chromium; alone: cargo run --release -p paygate-tests --bin widget_tti -- --runs 30)"
if [ -s dist/widget/index.html ] && [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  cargo run --release -p paygate-tests --bin widget_tti -- --runs "${TTI_RUNS:-30}"
else
  echo "skipped: needs scripts/build-frontend.sh and Chromium (scripts/setup.sh --browser)" >&2
fi

echo "==> admin history, ${HISTORY_ROWS:-1000000} payments (alone: scripts/bench.sh history)"
history_bench

echo "==> merchant webhooks, ${WEBHOOK_EVENTS:-100000} events (alone: scripts/bench.sh webhooks)"
webhook_bench
