#!/usr/bin/env bash
# Installs what the test suite needs on a Debian 12 machine (as root): the real servers, test
# tools, and the project's npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
. appliance/distro/debian12.sh
deb_install $DEB_SERVER_PACKAGES $DEB_TEST_PACKAGES $DEB_BUILD_PACKAGES
# The distro's own instances are not used by the tests; stop any that a package started.
for service in postfix clamav-daemon clamav-freshclam spamd dovecot slapd; do
  (service "$service" stop >/dev/null 2>&1 || true)
done
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi
