#!/usr/bin/env bash
# Packer boots the base disk under qemu and provisions it (packer/mailfilter.json). KVM when it
# works on this host, software emulation (TCG) otherwise; ACCEL=kvm|tcg overrides.
set -euo pipefail
cd "$REPO"
if [ -z "${ACCEL:-}" ]; then
  ACCEL=tcg
  if [ -w /dev/kvm ] && timeout 20 qemu-system-x86_64 -accel kvm -M pc -m 64 -display none -nodefaults -no-reboot -serial stdio \
       -kernel "$(ls "$WORK"/vmlinuz* 2>/dev/null | head -1 || echo /nonexistent)" -append 'console=ttyS0 panic=-1' 2>/dev/null | grep -q 'Linux version'; then
    ACCEL=kvm
  fi
fi
echo "packer: accelerator $ACCEL"
overlay_tar="$WORK/overlay.tar"
runtime_tar="$WORK/runtime.tar"
out="$WORK/packer-output"
. "$REPO/appliance/lib/cleanup.sh"
cleanup_trap
# Packer and its qemu get the terminal's signals with this script; what they wrote goes with it.
cleanup_push rm -rf "$runtime_tar" "$overlay_tar" "$out"
zstd -q -d -f "$(readlink -f "$WORK/runtime.tar.zst")" -o "$runtime_tar"
tar -C overlay --owner=0 --group=0 -cf "$overlay_tar" .
rm -rf "$out"
PACKER_LOG=0 packer build -color=false \
  -var "base_disk=$(readlink -f "$WORK/base.qcow2")" \
  -var "runtime_bundle=$runtime_tar" \
  -var "overlay_tar=$overlay_tar" \
  -var "output_dir=$out" \
  -var "vm_name=mailfilter-$VERSION.qcow2" \
  -var "accel=$ACCEL" \
  packer/mailfilter.json
mv "$out/mailfilter-$VERSION.qcow2" "$OUTPUT/mailfilter-$VERSION.qcow2"
cleanup
ls -lh "$OUTPUT/mailfilter-$VERSION.qcow2"
