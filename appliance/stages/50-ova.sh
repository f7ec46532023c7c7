#!/usr/bin/env bash
# The OVA users import into VirtualBox, VMware or Proxmox: OVF descriptor, stream-optimised VMDK
# and a SHA-256 manifest, in that order in one tar file.
set -euo pipefail
cd "$REPO"
qcow2="$OUTPUT/mailfilter-$VERSION.qcow2"
dir="$WORK/ova"
. "$REPO/appliance/lib/cleanup.sh"
cleanup_trap
rm -rf "$dir"
# A half-written OVA must not look like a finished one.
cleanup_push rm -rf "$dir" "$OUTPUT/mailfilter-$VERSION.ova.tmp"
mkdir -p "$dir"
disk="mailfilter-$VERSION-disk1.vmdk"
echo "ova: converting to a stream-optimised VMDK"
qemu-img convert -O vmdk -o subformat=streamOptimized "$qcow2" "$dir/$disk"
capacity=$(qemu-img info --output=json "$qcow2" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s)['virtual-size']))")
sed -e "s/{{VERSION}}/$VERSION/g" -e "s/{{DISK_FILE}}/$disk/g" -e "s/{{DISK_FILE_SIZE}}/$(stat -c %s "$dir/$disk")/g" -e "s/{{DISK_CAPACITY}}/$capacity/g" \
  appliance/ova/mailfilter.ovf.in > "$dir/mailfilter-$VERSION.ovf"
(cd "$dir" && for f in "mailfilter-$VERSION.ovf" "$disk"; do printf 'SHA256(%s)= %s\n' "$f" "$(sha256sum "$f" | cut -d' ' -f1)"; done > "mailfilter-$VERSION.mf")
tar -C "$dir" --owner=0 --group=0 --format=ustar -cf "$OUTPUT/mailfilter-$VERSION.ova.tmp" "mailfilter-$VERSION.ovf" "mailfilter-$VERSION.mf" "$disk"
mv "$OUTPUT/mailfilter-$VERSION.ova.tmp" "$OUTPUT/mailfilter-$VERSION.ova"
cleanup
ls -lh "$OUTPUT/mailfilter-$VERSION.ova"
