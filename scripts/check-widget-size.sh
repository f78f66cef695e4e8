#!/usr/bin/env bash
# Measures the widget's initial download in dist/widget: the precompressed copies of the wasm, the
# JS glue and the CSS that the server sends to browsers (scripts/build-frontend.sh writes them),
# brotli (what browsers take over HTTPS) and gzip (what every browser takes), and fails when
# either is above its budget (the measured size plus 5%; docs/BENCHMARKS.md). The console is a
# separate bundle and does not count.
set -euo pipefail
cd "$(dirname "$0")/.."
GZIP_BUDGET=$((105 * 1024))
BROTLI_BUDGET=$((93 * 1024))

# total <extension> <decompressor>: prints each served copy and the sum of their sizes.
total() {
  local ext=$1 decompress=$2 sum=0 f size
  for f in dist/widget/*.wasm dist/widget/*.js dist/widget/*.css; do
    [ -e "$f" ] || continue
    [ -e "$f.$ext" ] || { echo "no $f.$ext: run scripts/build-frontend.sh" >&2; exit 1; }
    # The served copy must be of this very file, not of an earlier build.
    $decompress "$f.$ext" | cmp -s - "$f" || { echo "$f.$ext is not a copy of $f" >&2; exit 1; }
    size=$(stat -c %s "$f.$ext")
    printf '%8d  %s\n' "$size" "$f.$ext" >&2
    sum=$((sum + size))
  done
  echo "$sum"
}

if ! ls dist/widget/*.wasm >/dev/null 2>&1; then
  echo "no widget build in dist/widget: run scripts/build-frontend.sh" >&2
  exit 1
fi
status=0
for kind in gzip brotli; do
  if [ "$kind" = gzip ]; then
    sum=$(total gz "gzip -dc"); budget=$GZIP_BUDGET
  else
    sum=$(total br "brotli -dc"); budget=$BROTLI_BUDGET
  fi
  printf '%8d  total with %s, budget %d\n' "$sum" "$kind" "$budget" >&2
  if [ "$sum" -gt "$budget" ]; then
    echo "the widget is over its $((budget / 1024)) KB budget with $kind" >&2
    status=1
  fi
done
exit $status
