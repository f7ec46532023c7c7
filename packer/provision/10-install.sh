#!/bin/sh
# Inside the appliance: our runtime and overlay/, the mailfilter user, the services.
set -eux
echo "==> installing the runtime and overlay"
apt-get clean
tar -C / -xf /tmp/runtime.tar
tar -C / --no-same-owner -xf /tmp/overlay.tar
rm -f /tmp/runtime.tar /tmp/overlay.tar
/usr/bin/mailfilter --help >/dev/null

echo "==> the mailfilter user and its folders"
getent passwd mailfilter >/dev/null || adduser --system --group --home /var/lib/mailfilter --no-create-home mailfilter
systemd-tmpfiles --create /usr/lib/tmpfiles.d/mailfilter.conf

echo "==> Postfix, ClamAV and SpamAssassin settings from the embedded defaults (the wizard replaces them)"
# DHCP until the wizard is answered: the embedded defaults have a static address left blank.
printf '{"network": {"dhcp": true}}\n' > /tmp/image-config.json
mailfilter render --root / --config /tmp/image-config.json >/dev/null
rm -f /tmp/image-config.json
postmap -c /etc/postfix /etc/postfix/transport

echo "==> services"
systemctl enable postfix clamav-daemon clamav-freshclam spamd regenerate-ssh-host-keys.service
# clamd starts when a virus database appears; rules update daily; the root grows on first boot.
systemctl enable clamav-daemon-database.path mailfilter-sa-update.timer mailfilter-sa-update-boot.timer mailfilter-grow-root.service mailfilter-door-stats.timer
systemctl enable nftables systemd-timesyncd rsyslog
systemctl enable mailfilter-filter.service
# The viewer, fetching and the directory sync are switched on by the wizard, as answered.
systemctl disable mailfilter-viewer.service mailfilter-fetch.service mailfilter-policy.service mailfilter-directory-sync.timer mailfilter-digest.timer 2>/dev/null || true
# The console asks for the wizard (see /etc/profile.d/zz-mailfilter-firstboot.sh); root must change
# the manual's initial password there.
touch /etc/mailfilter-initial-root-password
