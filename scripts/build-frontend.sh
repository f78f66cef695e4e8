#!/usr/bin/env bash
# Builds the browser bundles into dist/: the checkout widget (dist/widget, served under
# /assets/widget/) and the admin console (dist/console, served under /assets/console/).
# Two separate Trunk builds so the console never weighs on the widget's download.
#
# Needs on PATH: trunk 0.21.14, wasm-bindgen 0.2.130 (equal to the crate in Cargo.lock),
# wasm-opt (binaryen >= 119), esbuild, zopfli and brotli, which scripts/setup.sh installs; see
# docs/TOOLCHAIN.md.
# Trunk runs --offline because its own downloads of those tools cannot work here, and --offline
# makes cargo offline too, hence the `cargo fetch` first.
set -euo pipefail

cd "$(dirname "$0")/.."

for tool in trunk wasm-bindgen wasm-opt esbuild zopfli brotli openssl; do
    command -v "$tool" >/dev/null || { echo "build-frontend: $tool is not on PATH" >&2; exit 1; }
done

cargo fetch
# The standard library's own dependencies, for the widget's build below.
RUSTC_BOOTSTRAP=1 cargo fetch -Zbuild-std=std,panic_abort --target wasm32-unknown-unknown

# The widget is built with its standard library compiled for size, in a target folder of its
# own (so the console's build and the tests keep theirs):
# - `-Zbuild-std` with std's `optimize_for_size` feature: the prebuilt std is optimised for
#   speed and carries code the widget never calls;
# - `-Cpanic=immediate-abort`: a panic traps at once instead of formatting its message. The
#   widget never catches a panic (its profile already aborts), so nothing changes but the size:
#   the panic machinery and most of `core::fmt` drop out (docs/BENCHMARKS.md has the figures).
# Both are unstable options, used on the pinned stable toolchain (rust-toolchain.toml) through
# RUSTC_BOOTSTRAP, the documented way to do so (doc.rust-lang.org/cargo/reference/unstable.html);
# a toolchain update is checked by this build and the widget's browser tests. The console and
# the server are built as before.
WIDGET_ENV=(
    RUSTC_BOOTSTRAP=1
    CARGO_UNSTABLE_BUILD_STD=std,panic_abort
    CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size
    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS=-Zunstable-options -Cpanic=immediate-abort"
    CARGO_TARGET_DIR=target/widget-std
)

build() { # <name> [env...]
    local name=$1
    shift
    echo "build-frontend: building $name" >&2
    # The target goes first: `--offline` and `--release` take an optional value and would
    # swallow a path that follows them.
    env "$@" trunk build "frontend/$name.html" --release --offline \
        --dist "dist/$name" --public-url "/assets/$name/"
    test -s "dist/$name/index.html" || { echo "build-frontend: dist/$name/index.html missing" >&2; exit 1; }
    minify_glue "$name"
}

# integrity <dir> <file>: the page loads each file with Subresource Integrity, so its
# `integrity` attribute in index.html is recomputed after the file was rewritten.
integrity() {
    local dir=$1 file=$2 base old new
    base=$(basename "$file")
    new=$(openssl dgst -sha384 -binary "$file" | openssl base64 -A)
    old=$(grep -o "href=[^ >]*/$base integrity=sha384-[A-Za-z0-9+/=]*" "$dir/index.html" |
        sed 's/.*integrity=//')
    [ -n "$old" ] || { echo "build-frontend: no integrity for $base in $dir/index.html" >&2; exit 1; }
    sed -i "s|$old|sha384-$new|" "$dir/index.html"
    grep -q "integrity=sha384-$new" "$dir/index.html" ||
        { echo "build-frontend: $base integrity not updated" >&2; exit 1; }
}

# Trunk minifies the HTML and CSS (Trunk.toml `minify`), but its JS minifier cannot parse
# wasm-bindgen's glue (`export { ... as default }`: it warns and leaves the file as it is), so
# esbuild minifies the glue here (a quarter less to download, gzipped). The page loads the glue
# with Subresource Integrity, so its `integrity` attribute in index.html is recomputed to match.
minify_glue() { # <name>
    local dir="dist/$1" js
    for js in "$dir"/*.js; do
        esbuild "$js" --minify --format=esm --log-level=warning --outfile="$js" --allow-overwrite
        integrity "$dir" "$js"
    done
}

# A second `wasm-opt -Oz` over the widget's WebAssembly, which Trunk optimised once (it finds
# more to fold after the first pass: about 0.2 KB gzipped), without the producers section
# (tool names and versions, of no use to a browser).
optimize_widget_again() {
    local dir=dist/widget wasm
    for wasm in "$dir"/*.wasm; do
        wasm-opt -Oz --strip-producers "$wasm" -o "$wasm"
        integrity "$dir" "$wasm"
    done
}

build widget "${WIDGET_ENV[@]}"
optimize_widget_again
build console

# Precompressed copies (server/src/pages/mod.rs serves the smallest a browser accepts): the
# widget's budget is for what customers download. Brotli at its highest quality for browsers that
# take it (all current ones, over HTTPS); gzip for the rest, written by zopfli: ordinary gzip
# streams about 6% smaller than `gzip -9`, at a second or two of build time. Neither stores a
# file name or time, so the copies are the same on every build.
for f in dist/widget/*.wasm dist/widget/*.js dist/widget/*.css dist/console/*.wasm dist/console/*.js dist/console/*.css; do
  [ -e "$f" ] || continue
  zopfli --gzip "$f"
  brotli --best --force --keep --no-copy-stat "$f"
done

echo "build-frontend: done (dist/widget, dist/console)" >&2
