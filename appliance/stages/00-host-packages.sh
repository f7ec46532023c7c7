#!/usr/bin/env bash
# The host tools the build needs, from Debian's packages.
set -euo pipefail
. "$REPO/appliance/distro/debian12.sh"
deb_install $DEB_IMAGE_HOST_PACKAGES $DEB_BUILD_PACKAGES
