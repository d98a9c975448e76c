#!/usr/bin/env bash
# README's first command: set everything up, then boot, suspend and resume a VM and print the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node --import tsx scripts/demo.ts
