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
. appliance/lib/cleanup.sh
cleanup_trap
# Each stage runs in a process group of its own, so a signal here reaches it and its children
# (apt, qemu) at once; the stage's own cleanup then undoes what it made on the host.
stop_stage() {
  kill -TERM -- "-$1" 2>/dev/null || return 0
  wait "$1" 2>/dev/null || true
}
started=$(date +%s)
for stage in appliance/stages/[0-9][0-9]-*.sh; do
  name=$(basename "$stage" .sh)
  printf '\n==> [%s] %s (%ss since start)\n' "$(date +%H:%M:%S)" "$name" "$(( $(date +%s) - started ))"
  setsid bash "$stage" &
  stage_pid=$!
  cleanup_push stop_stage "$stage_pid"
  status=0
  wait "$stage_pid" || status=$?
  cleanup_pop
  [ "$status" -eq 0 ] || { echo "build: $name failed (exit $status)" >&2; exit "$status"; }
done
printf '\n==> done in %ss:\n' "$(( $(date +%s) - started ))"
ls -lh "$OUTPUT"
