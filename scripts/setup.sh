#!/usr/bin/env bash
# Sets up everything snapvm needs on a fresh Debian bookworm machine (root or sudo), idempotently:
# host packages (QEMU 10 from bookworm-backports, ...), npm packages, the build, the built-in guest image.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-host.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-fund --no-audit
fi
npm run --silent build
node dist/bin/snapvm.js image build
