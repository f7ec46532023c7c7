#!/usr/bin/env bash
# `npm run bench`: installs what the benchmark needs (the test servers, amavisd-new), then runs it
# (bench.ts, then bench/door.ts, bench/containers.ts, the shared PostgreSQL's bench bench/cluster.ts,
# then the sender authentication bench bench/auth.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup-host.sh
. appliance/distro/debian12.sh
deb_install amavisd-new
service amavis stop >/dev/null 2>&1 || true
node --import tsx bench/bench.ts
# The front door's cost for senders on no list (postscreen on against off): its own section, in place.
node --import tsx bench/door.ts
# The container decoders' added latency, as the last section of docs/benchmarks.md.
node --import tsx bench/containers.ts
# The filter on the shared PostgreSQL against SQLite, and two nodes against one: its own section, in place.
node --import tsx bench/cluster.ts
# Sender authentication's cost: its own section of docs/benchmarks.md, replaced in place.
exec node --import tsx bench/auth.ts
