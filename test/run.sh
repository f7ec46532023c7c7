#!/usr/bin/env bash
# The whole test suite: installs what it needs, type-checks, then runs every test with node's runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup-host.sh
echo "==> typecheck"
npx tsc -p tsconfig.json --noEmit
echo "==> tests"
# The daemons under test log every decision; warnings and errors are enough here.
export MAILFILTER_LOG_LEVEL="${MAILFILTER_LOG_LEVEL:-warn}"
mapfile -t files < <(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
