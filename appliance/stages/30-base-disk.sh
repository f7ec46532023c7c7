#!/usr/bin/env bash
# The base disk Packer starts from: the root filesystem on one ext4 partition, booted by extlinux
# (no vfat needed), serial and VGA consoles, root's initial password, SSH open for provisioning.
set -euo pipefail
. "$REPO/appliance/distro/debian12.sh"
tarball=$(deb_rootfs_tarball)
base="${tarball%.tar.zst}-base-$(sha256sum "$0" | cut -c1-8).qcow2"
# The kernel alone, for the KVM check of the next stage.
tar -C "$WORK" -I zstd -xf "$tarball" --wildcards './boot/vmlinuz-*' && cp "$(ls "$WORK"/boot/vmlinuz-* | sort -V | tail -1)" "$WORK/vmlinuz"
if [ -f "$base" ]; then
  echo "base disk: cached ($base)"
  ln -sf "$base" "$WORK/base.qcow2"
  exit 0
fi
raw="$WORK/base.raw"
mnt="$WORK/mnt"
cleanup_trap
rm -f "$raw"
cleanup_push rm -f "$raw" "$base.tmp"
truncate -s 6G "$raw"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk --quiet "$raw"
loop=$(losetup -f --show "$raw")
cleanup_push losetup -d "$loop"
# losetup -P makes no partition nodes here: partx does. A kernel that scanned the new loop device
# itself already has the partition, and then `partx -a` fails: `partx -u` accepts what is there.
cleanup_push partx -d "$loop"
partx -a "$loop" 2>/dev/null || partx -u "$loop"
part="${loop}p1"
for _ in $(seq 50); do [ -b "$part" ] && break; sleep 0.1; done
[ -b "$part" ] || { echo "base disk: no partition node $part after partx" >&2; exit 1; }
mkfs.ext4 -q -L mailfilter "$part"
uuid=$(blkid -s UUID -o value "$part")
mkdir -p "$mnt"
cleanup_push umount -R "$mnt"
mount "$part" "$mnt"
echo "base disk: unpacking the root filesystem"
tar -C "$mnt" --numeric-owner -I zstd -xf "$tarball"

echo "base disk: boot loader and first settings"
kernel=$(cd "$mnt/boot" && ls vmlinuz-* | sort -V | tail -1)
initrd=$(cd "$mnt/boot" && ls initrd.img-* | sort -V | tail -1)
printf 'UUID=%s / ext4 errors=remount-ro 0 1\n' "$uuid" > "$mnt/etc/fstab"
mkdir -p "$mnt/boot/extlinux"
cat > "$mnt/boot/extlinux/extlinux.conf" <<CONF
DEFAULT mailfilter
TIMEOUT 10
PROMPT 0
SERIAL 0 115200
LABEL mailfilter
  LINUX /boot/$kernel
  INITRD /boot/$initrd
  APPEND root=UUID=$uuid ro console=tty0 console=ttyS0,115200n8 net.ifnames=0
CONF
extlinux --install "$mnt/boot/extlinux" >/dev/null
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$loop" bs=440 count=1 conv=notrunc status=none
echo mailfilter > "$mnt/etc/hostname"
printf 'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n' > "$mnt/etc/network/interfaces"
echo 'root:password' | chroot "$mnt" chpasswd
# Packer provisions over SSH as root; its last step closes this again.
mkdir -p "$mnt/etc/ssh/sshd_config.d"
printf 'PermitRootLogin yes\nPasswordAuthentication yes\n' > "$mnt/etc/ssh/sshd_config.d/10-packer-build.conf"
sync
cleanup_pop # umount
cleanup_pop || true # partx -d: nothing to drop is fine
cleanup_pop # losetup -d
echo "base disk: converting to qcow2"
qemu-img convert -c -O qcow2 "$raw" "$base.tmp"
mv "$base.tmp" "$base"
cleanup
ln -sf "$base" "$WORK/base.qcow2"
ls -lh "$base"
