#!/usr/bin/env bash
# Debian 12 root filesystem with the kernel, Postfix, ClamAV, SpamAssassin and SSH, by debootstrap.
# Cached as a tarball keyed by the package list and mirror.
set -euo pipefail
. "$REPO/appliance/distro/debian12.sh"
tarball=$(deb_rootfs_tarball)
if [ -f "$tarball" ]; then
  echo "rootfs: cached ($tarball)"
  exit 0
fi
rootfs="$WORK/rootfs-build"
cleanup_trap
cleanup_remove_tree "$rootfs"
# An interrupted debootstrap leaves its proc and sys mounted in the root: unmounted before removal.
cleanup_push cleanup_remove_tree "$rootfs"
cleanup_push rm -f "$tarball.tmp"
mkdir -p "$rootfs"
# Packages are configured without starting their daemons inside the build root.
mkdir -p "$rootfs/usr/sbin"
echo "rootfs: debootstrap $DEB_SUITE from $DEB_MIRROR"
debootstrap --variant=minbase "$DEB_SUITE" "$rootfs" "$DEB_MIRROR"
# debootstrap cannot resolve virtual packages (perl-openssl-abi-3, ...): apt in the root can.
deb_chroot_install "$rootfs" $DEB_IMAGE_PACKAGES
echo "rootfs: packing"
tar -C "$rootfs" --numeric-owner -I 'zstd -T0 -3' -cf "$tarball.tmp" .
mv "$tarball.tmp" "$tarball"
cleanup
ls -lh "$tarball"
