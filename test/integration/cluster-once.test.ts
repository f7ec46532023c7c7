// Work that must happen once per cluster, against a real PostgreSQL 15 on loopback (TLS): two nodes
// sharing one quarantine trim it to its size once, on the node holding the expiry lease; two
// nodes' digest timers firing together send one digest per user, and a node's timer firing minutes
// later sends none; a node that died holding a lease is taken over once the lease runs out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { QuarantineStore } from '../../runtime/quarantine/store.js';
import { parseConfig } from '../../runtime/config/load.js';
import { openPostgres } from '../../runtime/storage/postgres.js';
import { migrateShared, type SharedTables } from '../../runtime/storage/shared-schema.js';
import { currentHolder, release, tryAcquire } from '../../runtime/cluster/lease.js';
import { EXPIRY_LEASE, expiryOncePerCluster } from '../../runtime/cluster/expiry.js';
import { DIGEST_LEASE, runDigestsOnce } from '../../runtime/digest/once-per-cluster.js';
import { openActionServices, type ActionServices } from '../../runtime/actions/services.js';
import type { Logger, LogFields } from '../../runtime/log.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { heldInput } from '../support/quarantine-contract.js';
import { startSink, type Sink } from '../support/sink.js';
import { makeTestCerts } from '../support/tls.js';

const root = mkdtempSync(join(tmpdir(), 'mailfilter-cluster-once-'));
let server: TestPostgres | undefined;
let sink: Sink | undefined;
const pools: Array<Kysely<SharedTables>> = [];
const services: ActionServices[] = [];

function nodePool(name: string): Kysely<SharedTables> {
  const db = openPostgres<SharedTables>({ url: server!.url, caFile: server!.caFile, applicationName: name, maxConnections: 4 });
  pools.push(db);
  return db;
}

/** A logger that keeps its lines, to see which node did the work. */
function keptLog(): Logger & { lines: Array<{ level: string; message: string; fields: LogFields }> } {
  const lines: Array<{ level: string; message: string; fields: LogFields }> = [];
  const at =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      void lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function hold(store: QuarantineStore, subject: string, recipients: string[], size: number): Promise<void> {
  const spool = join(root, `${subject.replace(/\W/g, '-')}.eml`);
  writeFileSync(spool, `Subject: ${subject}\r\n\r\n${'x'.repeat(size)}\r\n`);
  await store.add(spool, heldInput({ subject, recipients, size, receivedAt: new Date() }));
}

before(async () => {
  server = await startPostgres(makeTestCerts(join(root, 'certs')));
  await migrateShared(nodePool('migrate'));
  sink = await startSink();
});

after(async () => {
  for (const s of services) await s.close().catch(() => undefined);
  for (const db of pools) await db.destroy().catch(() => undefined);
  await sink?.stop();
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('a quarantine over its size is trimmed once, by the node holding the expiry lease; a dead holder is taken over', { timeout: 120_000 }, async () => {
  const db = nodePool('fill');
  await sql`TRUNCATE messages, recipients, message_chunks, daily_outcomes`.execute(db);
  const filler = QuarantineStore.shared(db, 100);
  // Ten messages of 200 KB: 2 MB in a quarantine of 1 MB on both nodes.
  for (let i = 0; i < 10; i++) await hold(filler, `expiry ${i}`, ['alice@company.com'], 200 * 1024);
  const [logA, logB] = [keptLog(), keptLog()];
  const [poolA, poolB] = [nodePool('expiry-a'), nodePool('expiry-b')];
  const nodeA = QuarantineStore.shared(poolA, 1, undefined, expiryOncePerCluster(poolA, 'mx-a.company.com', logA));
  const nodeB = QuarantineStore.shared(poolB, 1, undefined, expiryOncePerCluster(poolB, 'mx-b.company.com', logB));

  const removed = await Promise.all([nodeA.enforceMaxSize(), nodeB.enforceMaxSize()]);
  const ran = [logA, logB].flatMap((log) => log.lines.filter((l) => l.message === 'quarantine over its size: oldest messages deleted'));
  assert.equal(ran.length, 1, `one node deleted: ${JSON.stringify(removed)}`);
  assert.equal(removed.filter((n) => n > 0).length, 1);
  const holder = ran[0]!.fields.lease_holder;
  assert.ok(holder === 'mx-a.company.com' || holder === 'mx-b.company.com', String(holder));
  const waited = [logA, logB].flatMap((log) => log.lines.filter((l) => l.message.includes('the node holding the expiry lease deletes')));
  assert.ok(
    waited.every((l) => l.fields.held_by === holder || l.fields.held_by === undefined),
    JSON.stringify(waited),
  );
  assert.ok((await filler.totalBytes()) <= 1024 * 1024, 'it fits');
  assert.deepEqual(
    (await filler.list({ limit: 100 })).map((e) => e.subject).sort(),
    ['expiry 5', 'expiry 6', 'expiry 7', 'expiry 8', 'expiry 9'],
    'the oldest went, no more than needed',
  );
  assert.equal(await currentHolder(db, EXPIRY_LEASE), undefined, 'released after the run');

  // A node died while trimming: its lease stands until it runs out, then B trims.
  for (let i = 10; i < 13; i++) await hold(filler, `expiry ${i}`, ['alice@company.com'], 200 * 1024);
  assert.equal(await tryAcquire(db, { name: EXPIRY_LEASE, holder: 'mx-dead.company.com', ttlMs: 1500 }), true);
  assert.equal(await nodeB.enforceMaxSize(), 0, 'left to the holder');
  assert.equal(logB.lines.at(-1)?.fields.held_by, 'mx-dead.company.com');
  await sleep(1600);
  assert.equal(await nodeB.enforceMaxSize(), 3, 'taken over once the dead node’s lease ran out');
  assert.equal(logB.lines.at(-1)?.fields.lease_holder, 'mx-b.company.com');
  await Promise.all([nodeA.close(), nodeB.close(), filler.close()]);
});

/** A node's digest run: its own host name and data folder, the viewer's database shared. */
async function digestNode(name: string): Promise<ActionServices> {
  const config = parseConfig({
    network: { hostname: `${name}.company.com` },
    viewer: { dataDir: join(root, `viewer-${name}`), publicUrl: `https://${name}.company.com/viewer` },
    postfix: { reinjectHost: '127.0.0.1', reinjectPort: sink!.port },
    storage: { backend: 'postgresql', url: server!.url, caFile: server!.caFile },
  });
  const opened = await openActionServices(config);
  services.push(opened);
  for (const user of ['alice', 'bob'])
    if (!(await opened.accounts.findByName(user)))
      await opened.accounts.create({ username: user, password: `${user}s-password-1`, source: 'local', addresses: [`${user}@company.com`] });
  return opened;
}

const digestsTo = (user: string) => sink!.messages.filter((m) => new RegExp(`^X-Mailfilter-Digest: ${user}$`, 'm').test(m.raw)).length;

test('two nodes’ digest timers firing together send one digest per user; a timer firing later sends none', { timeout: 120_000 }, async () => {
  const db = nodePool('digest');
  await sql`TRUNCATE messages, recipients, message_chunks, daily_outcomes`.execute(db);
  const shared = QuarantineStore.shared(db, 100);
  await hold(shared, 'digest one', ['alice@company.com'], 100);
  await hold(shared, 'digest two', ['alice@company.com', 'bob@company.com'], 100);
  await shared.close();
  const [a, b] = [await digestNode('mx-a'), await digestNode('mx-b')];
  const link = b.tokens.sign({ action: 'release', messageId: 'm-1', userId: 1, expiresAt: Date.now() + 60_000 });
  assert.equal(a.tokens.verify(link).ok, true, 'a digest link signed on one node is good on the other (one shared secret)');
  const [logA, logB] = [keptLog(), keptLog()];
  const timing = { leaseMs: 3000, keepAfterMs: 4000 };

  // Forced: each user's digest is due on both nodes at once.
  const runs = await Promise.all([runDigestsOnce(a, logA, { force: true }, timing), runDigestsOnce(b, logB, { force: true }, timing)]);
  assert.equal(runs.filter((r) => r.ran).length, 1, JSON.stringify(runs));
  const winner = runs.find((r) => r.ran)!;
  const loser = runs.find((r) => !r.ran)!;
  assert.deepEqual(winner.ran && winner.reports.map((r) => [r.user, r.outcome, r.messages]), [
    ['alice', 'sent', 2],
    ['bob', 'sent', 1],
  ]);
  const winnerName = runs[0]!.ran ? 'mx-a.company.com' : 'mx-b.company.com';
  assert.match(String(!loser.ran && loser.heldBy), new RegExp(`^${winnerName} \\(pid \\d+\\)$`));
  await sink!.waitFor((m) => /^X-Mailfilter-Digest: bob$/m.test(m.raw), 30_000);
  await sink!.waitFor((m) => /^X-Mailfilter-Digest: alice$/m.test(m.raw), 30_000);
  assert.deepEqual([digestsTo('alice'), digestsTo('bob')], [1, 1], 'one digest per user');

  // The other node's timer fires a few minutes later (here: at once): the lease is kept after the run.
  const other = runs[0]!.ran ? { node: b, name: 'mx-b', log: logB } : { node: a, name: 'mx-a', log: logA };
  const later = await runDigestsOnce(other.node, other.log, { force: true }, timing);
  assert.equal(later.ran, false);
  assert.deepEqual([digestsTo('alice'), digestsTo('bob')], [1, 1], 'still one each');

  // A node dies in the middle of a run, before sending anything: nobody sends until its lease runs
  // out, then the other node does.
  await sleep(4100);
  assert.equal(await currentHolder(db, DIGEST_LEASE), undefined, 'the kept lease ran out');
  assert.equal(await tryAcquire(db, { name: DIGEST_LEASE, holder: 'mx-dead.company.com', ttlMs: 1500 }), true);
  const blocked = await runDigestsOnce(other.node, other.log, { force: true }, timing);
  assert.deepEqual(blocked, { ran: false, heldBy: 'mx-dead.company.com' });
  await sleep(1600);
  // The last digest is shared too: the taking-over node sends only what came since.
  const later2 = QuarantineStore.shared(db, 100);
  await hold(later2, 'digest three', ['alice@company.com', 'bob@company.com'], 100);
  await later2.close();
  const takeover = await runDigestsOnce(other.node, other.log, { force: true }, timing);
  assert.equal(takeover.ran, true, JSON.stringify(takeover));
  const done = other.log.lines.find((l) => l.message === 'digest run done under the digest lease');
  assert.match(String(done?.fields.lease_holder), new RegExp(`^${other.name}\\.company\\.com \\(pid \\d+\\)$`));
  await sink!.waitFor(() => digestsTo('alice') === 2 && digestsTo('bob') === 2, 30_000);
  await release(db, { name: DIGEST_LEASE, holder: String(done?.fields.lease_holder), ttlMs: 1 });
});
