#!/usr/bin/env bash
# The README's first command: installs what is missing, builds the widget and the console, and
# serves paygate in sandbox mode with SQLite on http://127.0.0.1:8080 (PAYGATE_LISTEN to change).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh
scripts/build-frontend.sh
exec cargo run --bin paygate -- serve
