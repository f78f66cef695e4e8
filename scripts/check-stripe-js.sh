#!/usr/bin/env bash
# Checks the sandbox's Stripe.js stand-in and the widget's Stripe.js calls against Stripe's
# published TypeScript types (@stripe/stripe-js, pinned with TypeScript in package-lock.json).
# Needs node and npm; downloads nothing but those two npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=server/sandbox/src/stripe/js/typecheck
(cd "$dir" && npm ci --silent --no-audit --no-fund)
npx --prefix "$dir" tsc --noEmit -p "$dir"
echo "Stripe.js stand-in matches @stripe/stripe-js"
