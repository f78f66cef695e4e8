#!/usr/bin/env bash
# What rust_decimal would add to the WebAssembly bundles: one wasm32 library that parses and
# formats amounts with paygate's own exact parser (shared::Money), the same with rust_decimal,
# both built as the widget is (opt-level z, LTO, wasm-opt -Oz), sizes raw and gzipped.
# The result and the decision are in docs/ARCHITECTURE.md ("Why not rust_decimal").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cp scripts/rust-decimal-size/lib.rs "$work/src/lib.rs"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "decimal-size"
version = "0.1.0"
edition = "2021"
[lib]
crate-type = ["cdylib"]
[features]
decimal = ["dep:rust_decimal"]
[dependencies]
shared = { path = "$root/shared", package = "paygate-shared" }
rust_decimal = { version = "1", default-features = false, optional = true }
[profile.release]
opt-level = "z"
lto = true
codegen-units = 1
panic = "abort"
[workspace]
TOML
for variant in own decimal; do
  flags=()
  [ "$variant" = decimal ] && flags=(--features decimal)
  (cd "$work" && cargo build -q --release --target wasm32-unknown-unknown "${flags[@]}")
  wasm-opt -Oz --strip-debug "$work/target/wasm32-unknown-unknown/release/decimal_size.wasm" -o "$work/$variant.wasm"
  printf '%-8s %7d bytes raw %7d bytes gzipped\n' "$variant" \
    "$(stat -c %s "$work/$variant.wasm")" "$(gzip -9 -c "$work/$variant.wasm" | wc -c)"
done
