#!/usr/bin/env bash
# Measures the widget's initial download in dist/widget: the gzipped copies of the wasm, the JS
# glue and the CSS that the server sends to browsers (scripts/build-frontend.sh writes them), and
# fails above the budget (the measured size plus 5%; docs/BENCHMARKS.md). The console is a
# separate bundle and does not count.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=$((115 * 1024))
total=0
for f in dist/widget/*.wasm dist/widget/*.js dist/widget/*.css; do
  [ -e "$f" ] || continue
  [ -e "$f.gz" ] || { echo "no $f.gz: run scripts/build-frontend.sh" >&2; exit 1; }
  # The served copy must be of this very file, not of an earlier build.
  gzip -dc "$f.gz" | cmp -s - "$f" || { echo "$f.gz is not a copy of $f" >&2; exit 1; }
  size=$(stat -c %s "$f.gz")
  printf '%8d  %s (gzipped)\n' "$size" "$f"
  total=$((total + size))
done
if [ "$total" -eq 0 ]; then
  echo "no widget build in dist/widget: run scripts/build-frontend.sh" >&2
  exit 1
fi
printf '%8d  total, budget %d\n' "$total" "$BUDGET"
if [ "$total" -gt "$BUDGET" ]; then
  echo "the widget is over its 115 KB budget" >&2
  exit 1
fi
