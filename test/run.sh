#!/usr/bin/env bash
# The whole test suite: installs what it needs, type-checks, then runs every test with node's runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup-host.sh
echo "==> typecheck"
npx tsc -p tsconfig.json --noEmit
echo "==> format and lint (npm run format fixes the layout)"
npm run --silent lint
echo "==> tests"
# The daemons under test log every decision; warnings and errors are enough here.
export MAILFILTER_LOG_LEVEL="${MAILFILTER_LOG_LEVEL:-warn}"
# Files the appliance's templates write on a real appliance: tests render into their own folders
# and must never change this machine's copies.
guarded="/etc/resolv.conf /etc/hosts /etc/hostname /etc/network/interfaces /etc/clamav/clamd.conf /etc/clamav/freshclam.conf /etc/spamassassin/local.cf /etc/postfix/main.cf /etc/postfix/master.cf"
fingerprint() { for f in $guarded; do printf '%s %s\n' "$f" "$(sha256sum "$f" 2>/dev/null | cut -c1-16)"; done; }
before=$(fingerprint)
mapfile -t files < <(find test -name '*.test.ts' | sort)
# Every server the tests start carries this marker, so that none can outlive the run unseen.
export MAILFILTER_RUN_ID="suite-$$-$(date +%s)"
# The image is built before the tests, not inside one: the runner's timeout holds for each test
# file as a whole, and a build from scratch takes longer than a stuck test should be given.
if [ -z "${MAILFILTER_IMAGE:-}" ]; then
  build_log="${TMPDIR:-/tmp}/mailfilter-image-build.log"
  echo "==> image build (appliance/build.sh; its log: $build_log)"
  started=$(date +%s)
  if bash appliance/build.sh > "$build_log" 2>&1; then
    export MAILFILTER_IMAGE="output/mailfilter-$(node -p "require('./package.json').version").qcow2"
    echo "    built in $(( $(date +%s) - started ))s: $MAILFILTER_IMAGE"
  else
    # The image test reports the failure with the log's end; the other tests still run.
    export MAILFILTER_IMAGE_BUILD_FAILED="$build_log"
    echo "    FAILED after $(( $(date +%s) - started ))s; the image test shows the log's end"
  fi
fi
set +e
# A stuck test, or test file, fails after 15 minutes (tests that need longer say so themselves),
# and a test file whose servers keep its process alive still ends.
node --import tsx --test --test-concurrency=1 --test-timeout=900000 --test-force-exit --test-reporter=spec "${files[@]}"
status=$?
set -e
if ! node --import tsx test/support/run-marker.ts "$MAILFILTER_RUN_ID"; then
  echo "FAIL: the tests left the processes above running (now stopped)"
  status=1
fi
after=$(fingerprint)
if [ "$before" != "$after" ]; then
  echo "FAIL: the tests changed files of this machine:"
  diff <(echo "$before") <(echo "$after") | grep '^>' || true
  exit 1
fi
exit $status
