#!/usr/bin/env bash
# The test command README.md gives and .ci/run calls: set-up, type check, lint, unit tests, e2e tests, VM tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# The VM tests need root (debootstrap for the cloud image, userfaultfd, loop mounts): escalate once.
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "test.sh: needs root: run it as root, or install sudo." >&2; exit 1; }
  exec sudo --preserve-env=PATH bash "$0" "$@"
fi

bash scripts/setup.sh
echo "== typecheck"; npx tsc --noEmit && npx tsc --noEmit -p web/tsconfig.json  # web/: the dashboard, DOM types
echo "== format (prettier)"; npx prettier --check . >/dev/null || { npx prettier --check .; echo "run: npx prettier --write ." >&2; exit 1; }
echo "== lint"; npx eslint .
echo "== import layering"; npx depcruise src bin --config .dependency-cruiser.cjs
# Node 20's --test does not expand globs itself: list the files.
echo "== unit tests"
mapfile -t unit < <(find src -name '*.test.ts' | sort)
npx c8 --reporter=text-summary --include="src/**" --exclude="**/*.test.ts" --exclude="**/fixtures/**" node --import tsx --test --test-reporter=spec "${unit[@]}"
echo "== e2e tests (built CLI, no QEMU)"  # setup.sh built dist/
node --import tsx --test --test-reporter=spec test/e2e/*.test.ts
echo "== host tests (network namespaces with sshd; a real S3 server, Ceph radosgw)"
node --import tsx --test --test-concurrency=1 --test-reporter=spec test/hosts/*.test.ts test/s3/*.test.ts
echo "== VM tests (real QEMU, TCG here)"
mapfile -t vm < <(find test/vm -name '*.test.ts' | sort)
node --import tsx --test --test-concurrency=1 --test-timeout=1800000 --test-reporter=spec "${vm[@]}"
