#!/bin/sh
# Leave nothing of this build machine in the image: caches, logs, identity.
set -eux
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/* /var/tmp/*
# No virus database ships: freshclam fetches the real one once the network works.
rm -f /var/lib/clamav/*.cvd /var/lib/clamav/*.cld /var/lib/clamav/*.cud /var/lib/clamav/*.ndb /var/lib/clamav/*.hdb
find /var/log -type f -exec truncate -s 0 {} +
journalctl --rotate >/dev/null 2>&1 || true
rm -rf /var/log/journal/*
# A new machine-id and new SSH host keys on first boot.
truncate -s 0 /etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
# SSH as root only with a key; the build's password login ends here.
rm -f /etc/ssh/sshd_config.d/10-packer-build.conf
printf 'PermitRootLogin prohibit-password\n' > /etc/ssh/sshd_config.d/10-mailfilter.conf
rm -f /root/.bash_history
sync
