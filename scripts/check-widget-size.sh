#!/usr/bin/env bash
# Measures the widget's initial download (wasm + JS glue + CSS, gzipped) in dist/widget and
# fails above the budget (the measured size plus 5%; docs/BENCHMARKS.md). The console is a
# separate bundle and does not count.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=$((124 * 1024))
total=0
for f in dist/widget/*.wasm dist/widget/*.js dist/widget/*.css; do
  [ -e "$f" ] || continue
  size=$(gzip -9 -c "$f" | wc -c)
  printf '%8d  %s (gzipped)\n' "$size" "$f"
  total=$((total + size))
done
if [ "$total" -eq 0 ]; then
  echo "no widget build in dist/widget: run scripts/build-frontend.sh" >&2
  exit 1
fi
printf '%8d  total, budget %d\n' "$total" "$BUDGET"
if [ "$total" -gt "$BUDGET" ]; then
  echo "the widget is over its 124 KB budget" >&2
  exit 1
fi
