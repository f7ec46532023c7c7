# Everything Debian-specific in one place: package names and how they are installed.
# Sourced by the host setup for tests, the image build and CI.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cleanup.sh"

# The servers the appliance runs, also started by the integration tests, and the filter's decoders;
# DBD::Pg lets SpamAssassin keep its Bayes data in the shared PostgreSQL (storage.backend postgresql).
DEB_SERVER_PACKAGES="postfix clamav-daemon clamav-freshclam spamd spamassassin libdbd-pg-perl 7zip libarchive-tools"
# What the tests use besides them: test files, protocol tools, archivers for fixtures.
# Dovecot stands in for the hosted POP3/IMAP mailboxes in fetch tests, slapd for Active Directory;
# Chromium drives the viewer, tmux the wizard and the image's serial console; unbound is the
# tests' DNS server (blocklists, test domains); PostgreSQL 15 is the shared database of several
# appliances (cluster tests); curl, procps and e2fsprogs (chattr) are used by tests.
DEB_TEST_PACKAGES="clamav-testfiles swaks tmux curl procps e2fsprogs unbound sqlite3 openssl zip bzip2 ca-certificates dovecot-core dovecot-pop3d dovecot-imapd slapd ldap-utils chromium 7zip gcab genisoimage tnef xz-utils zstd arj dosfstools mtools python3-dkim python3-authres postgresql-15"
# Build tools for native npm modules (better-sqlite3).
DEB_BUILD_PACKAGES="python3 make g++"

deb_missing() {
  local missing=""
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
  done
  echo "$missing"
}

# Installs what is missing, non-interactively, without starting the distro's own services
# (tests start their own instances on loopback).
deb_install() {
  local missing
  missing=$(deb_missing "$@")
  [ -z "$missing" ] && return 0
  echo "==> installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d 101: packages install without starting their daemons. A failed or interrupted
  # install must not leave it behind: it would stop every service of the host from starting.
  local policy=/usr/sbin/policy-rc.d created_policy=""
  cleanup_trap
  if [ ! -e "$policy" ]; then
    cleanup_push rm -f "$policy"
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
  fi
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
  local status=0
  apt-get install -y -qq --no-install-recommends $missing || status=$?
  if [ -n "$created_policy" ]; then cleanup_pop; fi
  return $status
}

# Building the image on the host.
DEB_IMAGE_HOST_PACKAGES="debootstrap qemu-system-x86 qemu-utils packer extlinux syslinux-common e2fsprogs fdisk util-linux rsync zstd"
DEB_SUITE="bookworm"
DEB_MIRROR="${DEB_MIRROR:-http://deb.debian.org/debian}"
# What the appliance's root filesystem holds (debootstrap --include). Besides the servers: time
# sync (timesyncd, dbus for timedatectl), the firewall, /var/log/mail.log (rsyslog), root growth
# on first boot (growpart, sfdisk), sa-update's signature checks and downloads (gpg, gpg-agent: spamassassin's
# postinst imports its key with it; curl).
DEB_IMAGE_PACKAGES="linux-image-amd64 systemd-sysv udev ifupdown isc-dhcp-client iproute2 netbase openssh-server postfix clamav-daemon clamav-freshclam spamd spamassassin libdbd-pg-perl 7zip libarchive-tools unbound openssl ca-certificates procps less nano logrotate systemd-timesyncd dbus nftables rsyslog cloud-guest-utils fdisk gpg gpg-agent curl"

# A Debian 12 machine's package sources: the release, its updates and security updates.
deb_sources_list() {
  cat <<SOURCES
deb $DEB_MIRROR $DEB_SUITE main
deb $DEB_MIRROR $DEB_SUITE-updates main
deb ${DEB_MIRROR%/debian}/debian-security $DEB_SUITE-security main
SOURCES
}

# Installs packages inside a debootstrapped root, without starting any daemon there. What it adds to
# the root and the host (policy-rc.d, resolv.conf, the proc, dev and sys mounts) is undone by
# deb_chroot_release, on its normal end and by the caller's cleanup when a step fails or a signal
# comes.
deb_chroot_install() {
  local root="$1"; shift
  cleanup_trap
  deb_sources_list > "$root/etc/apt/sources.list"
  cleanup_push deb_chroot_release "$root"
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  mount --bind /sys "$root/sys"
  local status=0
  chroot "$root" sh -c "echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections" || status=$?
  [ $status -eq 0 ] && { DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get update -qq || status=$?; }
  [ $status -eq 0 ] && { DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends "$@" || status=$?; }
  chroot "$root" apt-get clean || true
  cleanup_pop
  rm -rf "$root"/var/lib/apt/lists/*
  return $status
}

# Undoes what deb_chroot_install made, as far as it got: safe to run twice or half-way.
deb_chroot_release() {
  local root="$1" real pid status=0
  # Package scripts may leave daemons behind in the root (spamassassin's postinst starts gpg-agent
  # when gpg-agent is installed): stop exactly those, or /dev stays busy and cannot be unmounted.
  real=$(readlink -f "$root")
  local killed=""
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    if [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$real" ]; then kill "$pid" 2>/dev/null && killed=1; fi
  done
  [ -n "$killed" ] && sleep 1
  local mount
  for mount in sys dev proc; do
    if mountpoint -q "$root/$mount"; then umount "$root/$mount" || status=1; fi
  done
  rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
  return $status
}

# The cached root filesystem tarball: named after what goes into it (suite, mirror, packages).
deb_rootfs_tarball() {
  local key
  key=$(printf '%s\n' "$DEB_SUITE" "$DEB_MIRROR" "$DEB_IMAGE_PACKAGES" | sha256sum | cut -c1-16)
  echo "$CACHE/rootfs-$key.tar.zst"
}
