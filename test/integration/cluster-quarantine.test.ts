// The quarantine in the shared PostgreSQL (Debian's PostgreSQL 15 on loopback, TLS): the same
// contract as one appliance's SQLite quarantine, then what sharing adds: a message held through
// one node is listed, read and released through another, and a database that is gone is an error
// the filter turns into 4xx, never a lost message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { QuarantineStore } from '../../runtime/quarantine/store.js';
import { parseConfig } from '../../runtime/config/load.js';
import { openQuarantine } from '../../runtime/storage/open-quarantine.js';
import { openPostgres } from '../../runtime/storage/postgres.js';
import { migrateShared, type SharedTables } from '../../runtime/storage/shared-schema.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { heldInput, quarantineContract } from '../support/quarantine-contract.js';
import { makeTestCerts } from '../support/tls.js';

const root = mkdtempSync(join(tmpdir(), 'mailfilter-cluster-q-'));
let server: TestPostgres | undefined;
const pools: Array<Kysely<SharedTables>> = [];

function nodePool(name: string): Kysely<SharedTables> {
  const db = openPostgres<SharedTables>({ url: server!.url, caFile: server!.caFile, applicationName: name, maxConnections: 4 });
  pools.push(db);
  return db;
}

before(async () => {
  server = await startPostgres(makeTestCerts(join(root, 'certs')));
  await migrateShared(nodePool('migrate'));
});

after(async () => {
  for (const db of pools) await db.destroy().catch(() => undefined);
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

quarantineContract('PostgreSQL', async (maxSizeMb) => {
  const db = pools[0]!;
  await sql`TRUNCATE messages, recipients, message_chunks, daily_outcomes`.execute(db);
  return QuarantineStore.shared(db, maxSizeMb);
});

test('a message held through node A is listed, read and released through node B, and A sees the release', async () => {
  await sql`TRUNCATE messages, recipients, message_chunks, daily_outcomes`.execute(pools[0]!);
  const [a, b] = [QuarantineStore.shared(nodePool('node-a'), 100), QuarantineStore.shared(nodePool('node-b'), 100)];
  const spool = join(root, 'held.eml');
  writeFileSync(spool, 'From: x@example.net\r\nSubject: held on A\r\n\r\nbody\r\n');
  const held = await a.add(spool, heldInput({ subject: 'held on A', recipients: ['alice@company.local', 'bob@company.local'] }));
  // A's spool copy is gone, as it is once the filter has answered: B reads the database only.
  rmSync(spool);
  const seen = await b.list({ addresses: ['alice@company.local'] });
  assert.deepEqual(
    seen.map((e) => e.subject),
    ['held on A'],
  );
  assert.match(await text(b.openMessage(seen[0]!)), /Subject: held on A\r\n\r\nbody/);
  await b.markReleased(held.id, ['alice@company.local'], 'alice');
  assert.deepEqual(
    (await a.get(held.id))?.releases.map((r) => r.address),
    ['alice@company.local'],
  );
  a.recordOutcome('SPAM', new Date(Date.UTC(2026, 11, 1)));
  b.recordOutcome('SPAM', new Date(Date.UTC(2026, 11, 1)));
  await Promise.all([a.flushOutcomes(), b.flushOutcomes()]);
  assert.deepEqual(await b.dailyOutcomes('2026-12-01'), [{ day: '2026-12-01', outcome: 'SPAM', count: 2 }], 'both nodes’ counts, added');
  await Promise.all([a.close(), b.close()]);
});

test('`mailfilter storage migrate --to postgresql` copies a quarantine with its releases and counts, and carries on when run again', async () => {
  await sql`TRUNCATE messages, recipients, message_chunks, daily_outcomes`.execute(pools[0]!);
  const quarantineDir = join(root, 'local-quarantine');
  const local = QuarantineStore.open(quarantineDir, 100);
  const spool = join(root, 'local.eml');
  for (let i = 1; i <= 3; i++) {
    writeFileSync(spool, `Subject: local ${i}\r\n\r\nbody ${i}\r\n`);
    await local.add(spool, heldInput({ id: `local-${i}`, subject: `local ${i}`, recipients: ['alice@company.local', 'bob@company.local'] }));
  }
  await local.markReleased('local-2', ['bob@company.local'], 'vadmin');
  local.recordOutcome('CLEAN', new Date(Date.UTC(2026, 10, 30)));
  await local.close();
  const configFile = join(root, 'config.json');
  writeFileSync(configFile, JSON.stringify({ quarantine: { dir: quarantineDir }, storage: { url: server!.url, caFile: server!.caFile } }));
  const run = () =>
    execFileSync('node', ['--import', 'tsx', 'runtime/cli.ts', 'storage', 'migrate', '--to', 'postgresql', '--config', configFile], {
      encoding: 'utf8',
      env: { ...process.env, MAILFILTER_LOG_LEVEL: 'warn' },
    });
  const first = run();
  assert.match(first, /quarantine: 3 of 3 messages/);
  assert.match(first, /3 message\(s\) copied, 0 already there/);
  assert.match(first, /Set storage\.backend to "postgresql"/);
  assert.match(run(), /0 message\(s\) copied, 3 already there/);

  const shared = QuarantineStore.shared(pools[0]!, 100);
  const copied = (await shared.get('local-2'))!;
  assert.equal(copied.subject, 'local 2');
  assert.deepEqual(
    copied.releases.map((r) => [r.address, r.by]),
    [['bob@company.local', 'vadmin']],
  );
  assert.equal(await text(shared.openMessage(copied)), 'Subject: local 2\r\n\r\nbody 2\r\n');
  assert.deepEqual(await shared.dailyOutcomes('2026-11-30'), [{ day: '2026-11-30', outcome: 'CLEAN', count: 1 }]);
  // The appliance's own quarantine is left as it was.
  const after = QuarantineStore.open(quarantineDir, 100);
  assert.equal(await after.count(), 3);
  await after.close();
});

test('with the database gone, keeping a message fails (the filter answers 4xx) and nothing is half-written', async () => {
  const db = nodePool('node-down');
  const store = QuarantineStore.shared(db, 100);
  const spool = join(root, 'late.eml');
  writeFileSync(spool, 'Subject: late\r\n\r\nbody\r\n');
  await server!.stop();
  server = undefined;
  await assert.rejects(store.add(spool, heldInput({ subject: 'late' })), /ECONNREFUSED|terminat|connect/i);
  await assert.rejects(store.list(), /ECONNREFUSED|terminat|connect/i);
});

test('a node whose shared database is down at start still opens its quarantine: keeping a message fails (4xx) until the database is back', async () => {
  const config = parseConfig({ storage: { backend: 'postgresql', url: 'postgresql://mf:pw@127.0.0.1:9/none', caFile: '' } });
  const store = await openQuarantine(config, 'down-at-start');
  try {
    const spool = join(root, 'down.eml');
    writeFileSync(spool, 'Subject: down\r\n\r\nbody\r\n');
    await assert.rejects(store.add(spool, heldInput({ subject: 'down' })), /ECONNREFUSED|connect/i);
  } finally {
    await store.close();
  }
});
