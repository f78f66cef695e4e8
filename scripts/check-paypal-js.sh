#!/usr/bin/env bash
# Checks the sandbox's PayPal JS SDK stand-in, the emulator's order shape and the widget's
# PayPal SDK calls against PayPal's published TypeScript types (@paypal/paypal-js, pinned with
# TypeScript in package-lock.json). Needs node and npm; downloads nothing but those npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=server/sandbox/src/paypal/js/typecheck
(cd "$dir" && npm ci --silent --no-audit --no-fund)
npx --prefix "$dir" tsc --noEmit -p "$dir"
echo "PayPal JS SDK stand-in matches @paypal/paypal-js"
