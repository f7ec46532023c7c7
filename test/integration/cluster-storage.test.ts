// The shared database of several appliances, against a real PostgreSQL 15 on loopback with TLS:
// the connection's safety rules, a schema migrated once by nodes that start together, the node
// list, and leases that let exactly one node do once-per-cluster work, with takeover when it dies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { openPostgres, poolConfig } from '../../runtime/storage/postgres.js';
import { migrateShared, SHARED_SCHEMA_VERSION, type SharedTables } from '../../runtime/storage/shared-schema.js';
import { currentHolder, release, runOncePerCluster, tryAcquire } from '../../runtime/cluster/lease.js';
import { forgetNode, heartbeat, listNodes } from '../../runtime/cluster/nodes.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { makeTestCerts } from '../support/tls.js';
import { startHeartbeat } from '../../runtime/cluster/heartbeat.js';
import { parseConfig } from '../../runtime/config/load.js';
import { logger } from '../../runtime/log.js';
import { NodesCard } from '../../runtime/viewer/views/admin-console.js';

const root = mkdtempSync(join(tmpdir(), 'mailfilter-cluster-'));
let server: TestPostgres | undefined;
const opened: Array<Kysely<SharedTables>> = [];

function node(name: string): Kysely<SharedTables> {
  const db = openPostgres<SharedTables>({ url: server!.url, caFile: server!.caFile, applicationName: name, maxConnections: 4 });
  opened.push(db);
  return db;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the shared PostgreSQL of several appliances', { timeout: 300_000 }, () => {
  before(async () => {
    server = await startPostgres(makeTestCerts(join(root, 'certs')));
  });

  after(async () => {
    for (const db of opened) await db.destroy().catch(() => undefined);
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('off loopback the connection must use TLS; a server certificate the CA did not sign is refused', async () => {
    assert.throws(
      () => poolConfig({ url: 'postgresql://u:p@db.company.local/mailfilter?sslmode=disable', caFile: '' }),
      /must reach db.company.local over TLS/,
    );
    assert.throws(() => poolConfig({ url: 'mysql://u:p@db/x', caFile: '' }), /must be a PostgreSQL connection string/);
    assert.throws(() => poolConfig({ url: 'not a url', caFile: '' }), /must look like postgresql:\/\//);
    const remote = poolConfig({ url: 'postgresql://u:p%40ss@db.company.local:5433/shared', caFile: server!.caFile });
    assert.deepEqual([remote.host, remote.port, remote.user, remote.password, remote.database], ['db.company.local', 5433, 'u', 'p@ss', 'shared']);
    assert.equal(typeof remote.ssl === 'object' && remote.ssl.rejectUnauthorized, true);

    // The system's CAs do not know the test CA: the handshake fails, nothing is sent in clear.
    const untrusted = openPostgres<SharedTables>({ url: server!.url, caFile: '' });
    opened.push(untrusted);
    await assert.rejects(sql`SELECT 1`.execute(untrusted), /self-signed certificate|unable to verify|certificate/i);
    // The server itself accepts only TLS (hostssl): a plain connection on loopback is turned away.
    const plain = openPostgres<SharedTables>({ url: `${server!.url}?sslmode=disable`, caFile: '' });
    opened.push(plain);
    await assert.rejects(sql`SELECT 1`.execute(plain), /no pg_hba.conf entry|SSL off/i);
  });

  test('nodes that start together migrate the shared schema once', async () => {
    const nodes = [node('node-a'), node('node-b'), node('node-c')];
    await Promise.all(nodes.map((db) => migrateShared(db)));
    const applied = await sql<{ name: string }>`SELECT name FROM mailfilter_migrations ORDER BY name`.execute(nodes[0]!);
    assert.equal(applied.rows.length, SHARED_SCHEMA_VERSION);
    // Up to date: a later start changes nothing.
    await migrateShared(nodes[1]!);
    const tls = await sql<{ ssl: boolean; version: string }>`SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()`.execute(nodes[2]!);
    assert.equal(tls.rows[0]?.ssl, true);
    assert.match(tls.rows[0]!.version, /^TLSv1\.[23]$/);
  });

  test('a lease is held by one node; a dead holder is taken over once its lease has expired', async () => {
    const [a, b] = [node('lease-a'), node('lease-b')];
    const leaseA = { name: 'digest', holder: 'node-a', ttlMs: 4000 };
    const leaseB = { ...leaseA, holder: 'node-b' };
    assert.equal(await tryAcquire(a, leaseA), true);
    assert.equal(await tryAcquire(b, leaseB), false, 'held by A');
    assert.equal(await tryAcquire(a, leaseA), true, 'A renews its own');
    assert.equal(await currentHolder(b, 'digest'), 'node-a');
    // A dies without releasing: its connections are gone, its lease runs out.
    await a.destroy();
    assert.equal(await tryAcquire(b, leaseB), false, 'not before the lease has expired');
    await sleep(4200);
    assert.equal(await currentHolder(b, 'digest'), undefined);
    assert.equal(await tryAcquire(b, leaseB), true, 'B takes over');
    await release(b, leaseB);
    assert.equal(await currentHolder(b, 'digest'), undefined);
  });

  test('once-per-cluster work started on every node at once runs on one, and a node that lost its lease is told', async () => {
    const nodes = ['x', 'y', 'z'].map((n) => ({ db: node(`once-${n}`), holder: `node-${n}` }));
    let runs = 0;
    const results = await Promise.all(
      nodes.map(({ db, holder }) =>
        runOncePerCluster(db, { name: 'expiry', holder, ttlMs: 3000 }, async () => {
          runs += 1;
          await sleep(1500);
          return holder;
        }),
      ),
    );
    assert.equal(runs, 1);
    const ran = results.filter((r) => r.ran);
    assert.equal(ran.length, 1);
    for (const r of results) if (!r.ran) assert.equal(r.heldBy, ran[0]!.ran ? ran[0]!.value : undefined);
    // Released at the end: the next period's run is not kept waiting for the lease to expire.
    assert.equal(await currentHolder(nodes[0]!.db, 'expiry'), undefined);

    // A holder cut off for longer than its lease (here: the lease is stolen, as a takeover after
    // expiry would) learns it at its next renewal, and stops before its next irreversible step.
    const [slow, other] = nodes;
    let seenLost = false;
    await runOncePerCluster(slow!.db, { name: 'fetch:alice@pop.test', holder: slow!.holder, ttlMs: 600 }, async (stillHeld) => {
      await sql`UPDATE cluster_leases SET holder = ${other!.holder} WHERE name = 'fetch:alice@pop.test'`.execute(other!.db);
      for (let i = 0; i < 20 && stillHeld(); i++) await sleep(100);
      seenLost = !stillHeld();
    });
    assert.equal(seenLost, true);
    assert.equal(await currentHolder(other!.db, 'fetch:alice@pop.test'), other!.holder, 'the new holder keeps it');
  });

  test('each node appears in the list of nodes with its version, queue size and whether it is alive', async () => {
    const [a, b] = [node('beat-a'), node('beat-b')];
    await heartbeat(a, { name: 'mx1.company.com', version: '0.1.0', queueSize: 3 }, true);
    await heartbeat(b, { name: 'mx2.company.com', version: '0.1.1', queueSize: 0 }, true);
    await heartbeat(a, { name: 'mx1.company.com', version: '0.1.0', queueSize: 5 });
    let nodes = await listNodes(b, 1500);
    assert.deepEqual(
      nodes.map((n) => [n.name, n.version, n.queueSize, n.alive]),
      [
        ['mx1.company.com', '0.1.0', 5, true],
        ['mx2.company.com', '0.1.1', 0, true],
      ],
    );
    assert.ok(nodes[0]!.heartbeatAt >= nodes[0]!.startedAt);
    await sleep(4700);
    await heartbeat(b, { name: 'mx2.company.com', version: '0.1.1', queueSize: 1 });
    nodes = await listNodes(b, 1500);
    assert.deepEqual(
      nodes.map((n) => [n.name, n.alive]),
      [
        ['mx1.company.com', false],
        ['mx2.company.com', true],
      ],
    );
    assert.equal(await forgetNode(b, 'mx1.company.com'), true);
    assert.deepEqual(
      (await listNodes(b)).map((n) => n.name),
      ['mx2.company.com'],
    );
  });

  test('a node’s filter beats with its host name, release and queue; the console lists it, and says so when it goes quiet', async () => {
    const config = parseConfig({
      network: { hostname: 'mx3.company.com' },
      postfix: { configDir: join(root, 'no-postfix-here') },
      storage: { backend: 'postgresql', url: server!.url, caFile: server!.caFile },
    });
    const beat = startHeartbeat(config, node('mx3-filter'), logger('heartbeat-test'), 300);
    const db = node('console');
    try {
      const nodes = await waitForNode(db, 'mx3.company.com');
      const mx3 = nodes.find((n) => n.name === 'mx3.company.com')!;
      assert.equal(mx3.version, JSON.parse(readFileSync('package.json', 'utf8')).version);
      assert.equal(mx3.queueSize, -1, 'no Postfix config there: the queue is unknown, not 0');
      const card = String(NodesCard({ nodes }));
      assert.match(card, /Nodes sharing this quarantine/);
      assert.match(card, /<td>mx3\.company\.com<\/td><td>up<\/td>/);
      assert.match(card, /<td>unknown<\/td>/);
    } finally {
      await beat.stop();
    }
    await sleep(400);
    assert.match(String(NodesCard({ nodes: (await listNodes(db, 100)).filter((n) => n.name === 'mx3.company.com') })), /not heard from/);
    assert.equal(NodesCard({ nodes: undefined }), null, 'one appliance alone: no card');
  });
});

async function waitForNode(db: Kysely<SharedTables>, name: string) {
  for (let i = 0; i < 50; i++) {
    const nodes = await listNodes(db);
    if (nodes.some((n) => n.name === name)) return nodes;
    await sleep(100);
  }
  throw new Error(`${name} never wrote a heartbeat`);
}
