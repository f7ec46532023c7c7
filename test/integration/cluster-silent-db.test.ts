// The shared database's host dropping packets: it accepts TCP and never answers, so each new
// connection would wait the whole connect timeout. The sender-list lookup the filter and the
// policy service run for every message must then fail at once, as unavailable, after the first
// attempt timed out, with one probe at a time once the window is over; and when the host answers
// again (here: the listener starts passing connections on to a real PostgreSQL 15), the same pool
// gets through at its next probe. The connect timeout is shortened to 1 s (the daemons' is 10 s).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerSet } from '../../runtime/local/servers.js';
import { findMatch } from '../../runtime/lists/sender-lists.js';
import { openPostgres } from '../../runtime/storage/postgres.js';
import { migrateShared, type SharedTables } from '../../runtime/storage/shared-schema.js';
import { isDatabaseUnavailable } from '../../runtime/storage/unavailable.js';
import type { ViewerDatabase, ViewerTables } from '../../runtime/storage/viewer-db.js';
import { waitFor } from '../support/net.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { startSilentHost, type SilentHost } from '../support/silent-host.js';
import { makeTestCerts } from '../support/tls.js';

const root = mkdtempSync(join(tmpdir(), 'mailfilter-cluster-silent-db-'));
const servers = new ServerSet();
let postgres: TestPostgres;
let silent: SilentHost;
/** A node's pool (as its sender lists see it) whose storage url names the silent host. */
let db: ViewerDatabase;

before(
  async () => {
    try {
      postgres = servers.add(await startPostgres(makeTestCerts(join(root, 'certs'))));
      const direct = openPostgres<SharedTables>({ url: postgres.url, caFile: postgres.caFile, applicationName: 'silent-db-test' });
      await migrateShared(direct).finally(() => direct.destroy());
      silent = servers.add(await startSilentHost());
      db = openPostgres<ViewerTables>({
        url: postgres.url.replace(`:${postgres.port}/`, `:${silent.port}/`),
        caFile: postgres.caFile,
        applicationName: 'silent-db-node',
        maxConnections: 4,
        connectTimeoutMs: 1_000,
      });
      servers.add({ name: 'the node’s pool', stop: () => db.destroy() });
    } catch (err) {
      await servers.stopAll().catch(() => undefined);
      throw err;
    }
  },
  { timeout: 180_000 },
);

after(
  async () => {
    try {
      await servers.stopAll();
    } finally {
      if (!process.env.KEEP_TEST_DIRS) rmSync(root, { recursive: true, force: true });
    }
  },
  { timeout: 60_000 },
);

/** The query the filter and the policy service make for every message. */
const lookup = () => findMatch(db, 'bob@company.local', ['carol@example.net']);

/** A lookup that must fail as the database being unavailable; its message. */
async function failsUnavailable(): Promise<string> {
  const err = await lookup().then(
    () => assert.fail('the lookup got an answer from a host that gives none'),
    (e: unknown) => e as Error,
  );
  assert.ok(isDatabaseUnavailable(err), `counts as unavailable: ${err.message}`);
  return err.message;
}

const HELD_BACK = /^shared database unreachable \(last try \d+ s ago timed out after 1 s; next try in \d+ s\)$/;

test(
  'lookups within the window make one connection attempt and fail as unavailable, saying why; after the window one probe goes',
  { timeout: 120_000 },
  async (t) => {
    assert.match(await failsUnavailable(), /timeout/, 'the first lookup waits out the connect timeout');
    assert.equal(silent.accepted(), 1);
    for (let i = 0; i < 10; i++) assert.match(await failsUnavailable(), HELD_BACK);
    assert.equal(silent.accepted(), 1, 'ten lookups within the window: no new connection attempt');

    // The window over, the next lookup probes the host (and waits out the timeout again).
    const messages: string[] = [];
    await waitFor('a probe once the window is over', async () => (messages.push(await failsUnavailable()), silent.accepted() === 2), 60_000, 250);
    t.diagnostic(`while the window lasted: ${messages.slice(0, -1).at(-1)}`);
    for (let i = 0; i < 10; i++) assert.match(await failsUnavailable(), HELD_BACK);
    assert.equal(silent.accepted(), 2, 'the failed probe began a new window');
  },
);

test(
  'once the host answers again, the pool that failed gets through at its next probe and queries go on over that connection',
  { timeout: 120_000 },
  async () => {
    silent.forwardTo(postgres.port);
    // The window the failed probe began still holds new connections back.
    assert.match(await failsUnavailable(), HELD_BACK);
    assert.equal(silent.accepted(), 2);

    const answered = await waitFor('a lookup answered', async () => ({ match: await lookup() }), 90_000, 250);
    assert.equal(answered.match, null, 'no list entry for this sender');
    assert.equal(silent.accepted(), 3, 'one probe, and it got through');
    for (let i = 0; i < 10; i++) assert.equal(await lookup(), null);
    assert.equal(silent.accepted(), 3, 'the following lookups use the pooled connection');
  },
);
