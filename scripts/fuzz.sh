#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/, cargo-fuzz with libFuzzer) for SECONDS each
# (default 600, the length of the runs reported in docs/SECURITY.md), two at a time, from the
# committed seeds in fuzz/seeds/<target>; what libFuzzer finds grows fuzz/corpus/<target>
# (not committed). A crash stops with its input in fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh          # 10 minutes per target, about 35 minutes on 2 cores
#   scripts/fuzz.sh 30       # a smoke run
#
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address); this machine has only the stable
# toolchain, so RUSTC_BOOTSTRAP=1 lets stable rustc accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds=${1:-600}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
mkdir -p fuzz/logs
run() {
  local target=$1
  mkdir -p "fuzz/corpus/$target"
  cargo fuzz run -O "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    >"fuzz/logs/$target.log" 2>&1
  echo "$target: $(grep -E '^Done [0-9]+ runs' "fuzz/logs/$target.log" || echo 'see the log')"
}
targets=$(cargo fuzz list)
set -- $targets
status=0
while [ $# -gt 0 ]; do
  run "$1" & first=$!
  if [ $# -gt 1 ]; then run "$2" & second=$!; else second=; fi
  wait "$first" || status=1
  if [ -n "$second" ]; then wait "$second" || status=1; fi
  shift; [ $# -gt 0 ] && shift
done
exit $status
