#!/usr/bin/env bash
# The host tools the build needs, from Debian's packages.
set -euo pipefail
. "$REPO/appliance/distro/debian12.sh"
# deb_install removes the policy-rc.d it made, also on a failure or a signal.
cleanup_trap
deb_install $DEB_IMAGE_HOST_PACKAGES $DEB_BUILD_PACKAGES
