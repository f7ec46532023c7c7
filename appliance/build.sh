#!/usr/bin/env bash
# Builds the appliance image: output/mailfilter-<version>.qcow2 and .ova, on Debian 12, as root.
# Stages are numbered scripts in appliance/stages; each prints a banner, and the slow ones
# (root filesystem, runtime bundle) are cached under .cache/ while their inputs are unchanged.
#   DEB_MIRROR   Debian mirror for debootstrap      (default: deb.debian.org)
#   ACCEL        qemu accelerator for Packer         (default: kvm when it works, else tcg)
#   OUTPUT       where the images go                 (default: output/)
set -euo pipefail
cd "$(dirname "$0")/.."
export REPO="$PWD"
export VERSION="${VERSION:-$(node -p "require('./package.json').version")}"
export OUTPUT="${OUTPUT:-$REPO/output}"
export CACHE="${CACHE:-$REPO/.cache/image}"
export WORK="${WORK:-$CACHE/work}"
mkdir -p "$OUTPUT" "$CACHE" "$WORK"
started=$(date +%s)
for stage in appliance/stages/[0-9][0-9]-*.sh; do
  name=$(basename "$stage" .sh)
  printf '\n==> [%s] %s (%ss since start)\n' "$(date +%H:%M:%S)" "$name" "$(( $(date +%s) - started ))"
  bash "$stage"
done
printf '\n==> done in %ss:\n' "$(( $(date +%s) - started ))"
ls -lh "$OUTPUT"
