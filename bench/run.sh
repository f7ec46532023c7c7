#!/usr/bin/env bash
# `npm run bench`: installs what the benchmark needs (the test servers, amavisd-new), then runs it
# (bench.ts, then bench/containers.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup-host.sh
. appliance/distro/debian12.sh
deb_install amavisd-new
service amavis stop >/dev/null 2>&1 || true
node --import tsx bench/bench.ts
# The container decoders' added latency, as the last section of docs/benchmarks.md.
exec node --import tsx bench/containers.ts
