# One cleanup per script, trapped on EXIT, INT, TERM and HUP. Whatever changes the host (a mount,
# a loop device, policy-rc.d, a running child) registers its undoing right after it is made;
# cleanup undoes what is left, last made first, so a failed or interrupted step never leaves the
# host changed. A step that ends normally undoes itself with cleanup_pop.

CLEANUP_STEPS=()

# Registers a command and its arguments that undo what was just made.
cleanup_push() {
  CLEANUP_STEPS+=("$(printf '%q ' "$@")")
}

# Undoes the most recent step now, the normal way out of it; its failure is the caller's.
cleanup_pop() {
  local last=$((${#CLEANUP_STEPS[@]} - 1))
  [ "$last" -ge 0 ] || return 0
  local step=${CLEANUP_STEPS[$last]}
  unset "CLEANUP_STEPS[$last]"
  eval "$step"
}

# Undoes every step left; one that fails is reported, and the others still run.
cleanup() {
  local step
  while [ ${#CLEANUP_STEPS[@]} -gt 0 ]; do
    step=${CLEANUP_STEPS[$((${#CLEANUP_STEPS[@]} - 1))]}
    cleanup_pop || echo "cleanup: could not undo: $step" >&2
  done
}

# Installs the traps once per shell. A signal ends the script with the shell's usual status.
cleanup_trap() {
  [ -n "${CLEANUP_TRAPPED:-}" ] && return 0
  CLEANUP_TRAPPED=1
  trap cleanup EXIT
  trap 'cleanup; exit 129' HUP
  trap 'cleanup; exit 130' INT
  trap 'cleanup; exit 143' TERM
}

# Every mount point at or below a directory, deepest first (findmnt; a test may stand in for it).
cleanup_mounts_below() {
  local dir
  dir=$(readlink -f "$1")
  findmnt -rn -o TARGET | awk -v d="$dir" '$0 == d || index($0, d "/") == 1' | sort -r
}

# Unmounts whatever is mounted below a directory (debootstrap's proc and sys, a bind of /dev left
# by an interrupted chroot), then removes it: never deletes through a mount that is still there.
cleanup_remove_tree() {
  local dir="$1" target
  [ -e "$dir" ] || return 0
  for target in $(cleanup_mounts_below "$dir"); do
    umount "$target" 2>/dev/null || umount -l "$target" || true
  done
  if [ -n "$(cleanup_mounts_below "$dir")" ]; then
    echo "cleanup: $dir still has mounts; left in place" >&2
    return 1
  fi
  rm -rf "$dir"
}
