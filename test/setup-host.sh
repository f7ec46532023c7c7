#!/usr/bin/env bash
# Installs what the test suite needs on a Debian 12 machine (as root): the real servers, test
# tools, and the project's npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node first: Debian 12's own nodejs is 18, and the runtime needs 20 or later.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or later is needed, found $(node --version 2>/dev/null || echo none)." >&2
  echo "setup: install it first (README, Quick start, says how), then run npm test again." >&2
  exit 1
fi
# Native modules (better-sqlite3) build against the headers beside this node, when it has them:
# node-gyp would otherwise download them, and this machine may not reach the download site.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ -z "${npm_config_nodedir:-}" ] && [ "$(npm config get nodedir 2>/dev/null)" = "undefined" ] && [ -f "$node_prefix/include/node/node.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi
. appliance/distro/debian12.sh
deb_install $DEB_SERVER_PACKAGES $DEB_TEST_PACKAGES $DEB_BUILD_PACKAGES
# The distro's own instances are not used by the tests; stop any that a package started.
for service in postfix clamav-daemon clamav-freshclam spamd dovecot slapd postgresql; do
  (service "$service" stop >/dev/null 2>&1 || true)
done
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi
