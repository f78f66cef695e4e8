#!/usr/bin/env bash
# Installs what paygate's build and tests need and are missing on this machine, at the versions
# verified in docs/TOOLCHAIN.md. Each step is skipped when the tool is already there.
#   scripts/setup.sh            tools to build and run (wasm target, Trunk, wasm-bindgen, wasm-opt,
#                               esbuild, zopfli, brotli)
#   scripts/setup.sh --browser  also Chromium and ChromeDriver (for the browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132
ESBUILD_VERSION=0.25.12
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# rust-toolchain.toml names the toolchain and the wasm32 target; this makes sure both exist.
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
# The standard library's source, which the widget's build compiles for size.
if ! rustup component list --installed | grep -q '^rust-src'; then
  say "adding the rust-src component"
  rustup component add rust-src
fi

if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION"; then
  say "installing trunk $TRUNK_VERSION (a few minutes)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lock file names a webpki-roots release the registry lacks (docs/TOOLCHAIN.md).
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  say "installing wasm-opt (binaryen $BINARYEN_VERSION from npm; Debian's is too old)"
  npm install -g "binaryen@$BINARYEN_VERSION"
fi

# Write the precompressed copies that browsers download (scripts/build-frontend.sh): brotli's
# .br, and zopfli's .gz (ordinary gzip streams about 6% smaller than gzip -9 makes).
if ! command -v zopfli >/dev/null || ! command -v brotli >/dev/null; then
  say "installing zopfli and brotli (Debian packages)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq zopfli brotli
fi

# Minifies wasm-bindgen's JS glue (scripts/build-frontend.sh): Trunk's own minifier cannot parse it.
if ! esbuild --version 2>/dev/null | grep -qx "$ESBUILD_VERSION"; then
  say "installing esbuild $ESBUILD_VERSION (npm)"
  npm install -g "esbuild@$ESBUILD_VERSION"
fi

if [ "${1:-}" = "--browser" ]; then
  # The official Standard Webhooks verifiers (PyPI and npm), which the tests use to check paygate's
  # merchant webhook signatures with code no one here wrote.
  if ! .tools/py/bin/python -c 'import standardwebhooks' 2>/dev/null; then
    say "installing the standardwebhooks verifier (Python, in .tools/py)"
    python3 -m venv .tools/py
    .tools/py/bin/pip install -q standardwebhooks==1.3.0
  fi
  # The same library's JavaScript package (npm): both must accept every delivery.
  if [ ! -f .tools/node/node_modules/standardwebhooks/package.json ]; then
    say "installing the standardwebhooks verifier (npm, in .tools/node)"
    mkdir -p .tools/node
    npm install --silent --no-audit --no-fund --prefix .tools/node standardwebhooks@1.3.0
  fi

  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    say "installing chromium and chromium-driver"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
  fi
fi
