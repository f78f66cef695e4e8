#!/usr/bin/env bash
# The README's second command: installs what is missing (Chromium included), builds the
# front-end, and runs the whole suite: every crate's tests (SQLite and PostgreSQL, real HTTP,
# real Chromium) and the widget's component tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh --browser
scripts/build-frontend.sh
scripts/check-widget-size.sh

echo "==> workspace tests"
cargo test --workspace --exclude paygate-frontend

echo "==> front-end unit tests (plain Rust logic of the widget and the console, on the host)"
cargo test -p paygate-frontend --lib

echo "==> widget and console component tests (wasm32, headless Chromium)"
CHROMEDRIVER=/usr/bin/chromedriver \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p paygate-frontend --target wasm32-unknown-unknown
