#!/usr/bin/env bash
# The long crash tests (the short ones run in CI as part of the e2e suite): three paygate
# instances on PostgreSQL, then one on SQLite, each SIGKILLed KILLS times (default 200) at a
# random moment of every EVERY_MS (default 2000) under mixed traffic, then the invariants checked
# against the emulator's records (tests/tests/e2e/chaos.rs). Prints one line of figures per run;
# docs/RELIABILITY.md keeps them.
#
#   scripts/chaos.sh            # 200 kills each, about 25 minutes on 2 cores
#   scripts/chaos.sh 20         # a quicker run
#
# The test binaries are copied away before running, so building in this tree meanwhile does not
# swap the paygate that the harness restarts.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
kills=${1:-200}
every=${EVERY_MS:-2000}
export PAYGATE_REQUIRE_POSTGRES=1
# The e2e test binary and the paygate it starts, as `cargo test` builds them.
built=$(cargo test -p paygate-tests --test e2e --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] in ("e2e", "paygate-node"):
        print(m["target"]["name"], m["executable"])')
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
while read -r name path; do cp "$path" "$copy/$name"; done <<<"$built"
test -x "$copy/e2e" && test -x "$copy/paygate-node"
export PAYGATE_NODE_BIN="$copy/paygate-node" PAYGATE_CHAOS_KILLS=$kills PAYGATE_CHAOS_EVERY_MS=$every
cd tests
for test in chaos::three_instances_on_postgres_survive_random_kills \
            chaos::one_instance_on_sqlite_survives_being_killed_in_a_loop; do
  "$copy/e2e" "$test" --exact --nocapture 2>&1 | grep -E '^chaos |panicked|invariants broken|^test result' || true
done
