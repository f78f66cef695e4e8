#!/usr/bin/env bash
# Benchmarks (not tests): criterion benches of money parsing/formatting and the log redaction
# filter, then the load generator against a release build of `paygate serve` on a fresh SQLite
# database on 127.0.0.1, then the widget's time to interactive in headless Chromium (needs the
# built front-end and Chromium; skipped with a message otherwise), then the admin history with
# a million seeded payments on SQLite and PostgreSQL (`scripts/bench.sh history` runs only
# that; HISTORY_ROWS changes the count), then merchant webhook delivery draining a backlog of
# 100,000 events (`scripts/bench.sh webhooks` alone; WEBHOOK_EVENTS). `scripts/bench.sh writes`
# (the write path against its ceiling) and `scripts/bench.sh memory` (resident memory under five
# minutes of mixed load) run only on request. Results go in
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

writes_bench() { # the write path against its ceiling, SQLite then PostgreSQL
  cargo build --release --bin paygate -p paygate-server
  cargo build --release -p paygate-tests --bin loadgen --bin ceiling
  local seconds=${SECONDS_PER_RUN} conc=${CONCURRENCY}
  throughput() { sed -n 's/.*throughput=\([0-9]*\).*/\1/p'; }
  for backend in sqlite postgres; do
    local work; work=$(mktemp -d)
    local ceiling_db paygate_db ingest_db
    if [ "$backend" = sqlite ]; then
      ceiling_db="sqlite://$work/ceiling.db"; paygate_db="sqlite://$work/paygate.db"
      ingest_db="sqlite://$work/ingest.db"
    else
      if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        echo "skipped PostgreSQL: nothing answers on 127.0.0.1:5432" >&2; continue
      fi
      local name="paygate_bench_$$"
      psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS ${name}_c" -c "CREATE DATABASE ${name}_c" \
        -c "DROP DATABASE IF EXISTS ${name}_p" -c "CREATE DATABASE ${name}_p" \
        -c "DROP DATABASE IF EXISTS ${name}_i" -c "CREATE DATABASE ${name}_i"
      ceiling_db="postgres://postgres@127.0.0.1:5432/${name}_c"; paygate_db="postgres://postgres@127.0.0.1:5432/${name}_p"
      ingest_db="postgres://postgres@127.0.0.1:5432/${name}_i"
    fi
    target/release/ceiling --db "$ceiling_db" --listen 127.0.0.1:18090 >/dev/null &
    local ceiling=$!
    for _ in $(seq 1 100); do curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' http://127.0.0.1:18090/rows && break; sleep 0.1; done
    local line; line=$(target/release/loadgen --url http://127.0.0.1:18090 --scenario ceiling --concurrency "$conc" --seconds "$seconds")
    echo "$backend $line"
    local top; top=$(echo "$line" | throughput)
    kill $ceiling; wait $ceiling 2>/dev/null || true
    # The emulators in a process of their own, so paygate's resident memory is its own (the
    # emulators keep every object they make in memory).
    PAYGATE_SANDBOX_LISTEN=127.0.0.1:18092 PAYGATE_PUBLIC_URL=http://127.0.0.1:18091 PAYGATE_LOG=warn \
      target/release/paygate sandbox serve >/dev/null &
    local emulators=$!
    export PAYGATE_SANDBOX_EMULATORS=http://127.0.0.1:18092
    PAYGATE_LISTEN=127.0.0.1:18091 DATABASE_URL="$paygate_db" PAYGATE_LOG=warn \
    PAYGATE_MERCHANT_RATE_LIMIT=0 PAYGATE_WIDGET_RATE_LIMIT=0 target/release/paygate serve &
    local server=$!
    for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18091/healthz >/dev/null && break; sleep 0.1; done
    for scenario in create-session create-session-unkeyed create-payment; do
      line=$(target/release/loadgen --url http://127.0.0.1:18091 --scenario "$scenario" --concurrency "$conc" --seconds "$seconds")
      local got; got=$(echo "$line" | throughput)
      echo "$backend $line ratio_to_ceiling=$(( got * 100 / (top > 0 ? top : 1) ))%"
    done
    echo "$backend paygate resident memory after the runs (emulators apart): $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status)"
    kill $server; wait $server 2>/dev/null || true
    # paygate's own time per payment at a steady 100 payments/s, from its histogram (a fresh
    # process, so only these payments count).
    PAYGATE_LISTEN=127.0.0.1:18091 DATABASE_URL="$paygate_db" PAYGATE_LOG=warn \
    PAYGATE_MERCHANT_RATE_LIMIT=0 PAYGATE_WIDGET_RATE_LIMIT=0 target/release/paygate serve &
    server=$!
    for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18091/healthz >/dev/null && break; sleep 0.1; done
    target/release/loadgen --url http://127.0.0.1:18091 --scenario create-payment --concurrency "$conc" \
      --seconds "$seconds" --rate 100 | sed "s/^/$backend /"
    curl -s http://127.0.0.1:18091/metrics | python3 -c '
import sys
buckets, count = [], 0
for line in sys.stdin:
    if line.startswith("paygate_payment_own_seconds_bucket"):
        le = line.split("le=\"")[1].split("\"")[0]
        buckets.append((float("inf") if le == "+Inf" else float(le), float(line.split()[-1])))
    elif line.startswith("paygate_payment_own_seconds_count"):
        count = float(line.split()[-1])
for p in (0.5, 0.99):
    bound = next((le for le, n in buckets if n >= p * count), float("nan"))
    print(f"own time per payment at 100/s: p{int(p*100)} <= {bound*1000:g} ms ({int(count)} payments)")
' | sed "s/^/$backend /"
    kill $server; wait $server 2>/dev/null || true
    # Provider webhook ingest last, on a process of its own: afterwards the inbox worker works
    # off the events it stored, which would weigh on any measurement that followed. On a fresh
    # database with the emulators stopped, as the ceiling starts on one: otherwise the inbox
    # worker would still be working off the payment scenarios' provider events, and the
    # emulators retrying the deliveries the restarts refused, while ingest is measured.
    kill $emulators; wait $emulators 2>/dev/null || true
    unset PAYGATE_SANDBOX_EMULATORS
    PAYGATE_LISTEN=127.0.0.1:18091 DATABASE_URL="$ingest_db" PAYGATE_LOG=warn \
    PAYGATE_MERCHANT_RATE_LIMIT=0 PAYGATE_WIDGET_RATE_LIMIT=0 target/release/paygate serve &
    server=$!
    for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18091/healthz >/dev/null && break; sleep 0.1; done
    line=$(target/release/loadgen --url http://127.0.0.1:18091 --scenario stripe-webhook --concurrency "$conc" --seconds "$seconds")
    got=$(echo "$line" | throughput)
    echo "$backend $line ratio_to_ceiling=$(( got * 100 / (top > 0 ? top : 1) ))%"
    kill $server; wait $server 2>/dev/null || true
    rm -rf "$work"
    if [ "$backend" = postgres ]; then
      psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS paygate_bench_$$_c WITH (FORCE)" \
        -c "DROP DATABASE IF EXISTS paygate_bench_$$_p WITH (FORCE)" \
        -c "DROP DATABASE IF EXISTS paygate_bench_$$_i WITH (FORCE)"
    fi
  done
}

memory_bench() { # paygate's resident memory under MEMORY_SECONDS (300) of mixed load, SQLite
  cargo build --release --bin paygate -p paygate-server
  cargo build --release -p paygate-tests --bin loadgen
  local seconds=${MEMORY_SECONDS:-300} work; work=$(mktemp -d)
  # The emulators in a process of their own, as in writes_bench: they keep every object in
  # memory, and only paygate's own memory is measured.
  PAYGATE_SANDBOX_LISTEN=127.0.0.1:18192 PAYGATE_PUBLIC_URL=http://127.0.0.1:18191 PAYGATE_LOG=warn \
    target/release/paygate sandbox serve >/dev/null &
  local emulators=$!
  PAYGATE_SANDBOX_EMULATORS=http://127.0.0.1:18192 PAYGATE_LISTEN=127.0.0.1:18191 \
  DATABASE_URL="sqlite://$work/paygate.db" PAYGATE_LOG=warn \
  PAYGATE_MERCHANT_RATE_LIMIT=0 PAYGATE_WIDGET_RATE_LIMIT=0 target/release/paygate serve &
  local server=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18191/healthz >/dev/null && break; sleep 0.1; done
  echo "memory at start: $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status)"
  # Mixed: keyed sessions, payments through the Stripe emulator at 100/s (each also brings its
  # provider webhooks back in), the widget's session reads and the merchant's payment list.
  local loads=()
  for scenario in create-session widget-session list-payments; do
    target/release/loadgen --url http://127.0.0.1:18191 --scenario "$scenario" --concurrency 4 \
      --seconds "$seconds" > "$work/$scenario.out" &
    loads+=($!)
  done
  target/release/loadgen --url http://127.0.0.1:18191 --scenario create-payment --concurrency 8 \
    --seconds "$seconds" --rate 100 > "$work/create-payment.out" &
  loads+=($!)
  local elapsed=0
  while [ "$elapsed" -lt "$seconds" ]; do
    sleep 30; elapsed=$((elapsed + 30))
    echo "memory after ${elapsed} s: $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status)"
  done
  wait "${loads[@]}" || true
  cat "$work"/*.out
  echo "paygate resident memory after ${seconds} s of mixed load: $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status) (peak $(awk '/VmHWM/ {print $2, $3}' /proc/$server/status))"
  kill $server; wait $server 2>/dev/null || true
  kill $emulators; wait $emulators 2>/dev/null || true
  rm -rf "$work"
}

# `scripts/bench.sh memory` runs only the mixed-load memory run (MEMORY_SECONDS),
# `scripts/bench.sh history` runs only the admin history benchmark, `scripts/bench.sh webhooks`
# only the webhook delivery benchmark, `scripts/bench.sh writes` only the write path against
# its ceiling (SECONDS_PER_RUN, CONCURRENCY).
if [ "${1:-}" = "memory" ]; then
  memory_bench
  exit 0
fi
if [ "${1:-}" = "writes" ]; then
  writes_bench
  exit 0
fi
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
