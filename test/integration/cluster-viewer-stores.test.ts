// The viewer's stores in the shared PostgreSQL (Debian's PostgreSQL 15 on loopback, TLS): the same
// contract as one appliance's viewer.sqlite, each case through two nodes' connections, then the
// filter's own way in (openViewerDbReader with storage.backend postgresql): a list entry made through node B decides node A's next
// message, its audit line lands in the shared log, and a database that is gone means "no entry".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, sql, type Kysely } from 'kysely';
import { AuditLog } from '../../runtime/actions/audit.js';
import { parseConfig } from '../../runtime/config/load.js';
import { auditSink } from '../../runtime/filter/audit-sink.js';
import { senderListLookup } from '../../runtime/lists/lookup.js';
import { SenderLists } from '../../runtime/lists/sender-lists.js';
import { logger } from '../../runtime/log.js';
import { openViewerDbReader } from '../../runtime/storage/open-viewer.js';
import { openSharedHandle } from '../../runtime/storage/shared-handle.js';
import { openPostgres } from '../../runtime/storage/postgres.js';
import { copyViewerToShared } from '../../runtime/storage/copy-viewer-db.js';
import { migrateShared, SHARED_MIGRATIONS, type SharedTables } from '../../runtime/storage/shared-schema.js';
import { openViewerDatabase, viewerKysely, type ViewerDatabase } from '../../runtime/storage/viewer-db.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { makeTestCerts } from '../support/tls.js';
import { addUser, viewerStoresContract } from '../support/viewer-stores-contract.js';

const root = mkdtempSync(join(tmpdir(), 'mailfilter-cluster-viewer-'));
let server: TestPostgres | undefined;
const pools: Array<Kysely<SharedTables>> = [];

function nodePool(name: string, database = 'mailfilter'): ViewerDatabase {
  const url = server!.url.replace(/\/mailfilter$/, `/${database}`);
  const db = openPostgres<SharedTables>({ url, caFile: server!.caFile, applicationName: name, maxConnections: 4 });
  pools.push(db);
  return db as unknown as ViewerDatabase;
}

const VIEWER_TABLES = sql`users, addresses, sessions, failed_logins, sender_lists, audit, release_requests, settings, digest_state, used_tokens`;

async function emptied(db: ViewerDatabase): Promise<void> {
  await sql`TRUNCATE ${VIEWER_TABLES} RESTART IDENTITY CASCADE`.execute(db);
}

const nodeConfig = () => parseConfig({ storage: { backend: 'postgresql', url: server!.url, caFile: server!.caFile } });

before(async () => {
  server = await startPostgres(makeTestCerts(join(root, 'certs')));
  await migrateShared(nodePool('migrate') as unknown as Kysely<SharedTables>);
});

after(async () => {
  for (const db of pools) await db.destroy().catch(() => undefined);
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

viewerStoresContract('PostgreSQL', async () => {
  const [a, b] = [nodePool('node-a'), nodePool('node-b')];
  await emptied(a);
  return { a, b, close: async () => undefined };
});

test('the filter on node A: a list entry made through node B decides its next message, and its audit line is in the shared log', async () => {
  const viewerOnB = nodePool('viewer-b');
  await emptied(viewerOnB);
  const carol = await addUser(viewerOnB, 'carol', ['carol@company.local']);
  const handleOnA = openSharedHandle(nodeConfig(), { name: 'filter-a', maxConnections: 4 });
  const filterOnA = openViewerDbReader(nodeConfig(), handleOnA);
  try {
    const lookup = senderListLookup(filterOnA, logger('test'));
    assert.equal(await lookup('carol@company.local', ['news@shop.example']), null);
    await new SenderLists(viewerOnB).add({ ownerId: carol, kind: 'allow', pattern: '*@shop.example', expiresAt: null, createdBy: 'carol' });
    assert.deepEqual(await lookup('Carol@Company.local', ['news@shop.example']), {
      kind: 'allow',
      pattern: '*@shop.example',
      list: 'carol',
      sender: 'news@shop.example',
    });
    await auditSink(filterOnA)({ actor: 'system', action: 'allow-list override', messageId: 'msg-a', detail: 'SPOOFED overridden', client: 'appliance' });
    assert.deepEqual(
      (await new AuditLog(viewerOnB).list({ limit: 5, offset: 0, search: 'msg-a' })).map((r) => [r.actor, r.action]),
      [['system', 'allow-list override']],
    );
  } finally {
    await filterOnA.close();
    await handleOnA?.close();
  }
});

test('with the shared database gone, the filter’s lookup is "no entry" (the other checks decide) and its audit line fails to the caller', async () => {
  const down = parseConfig({ storage: { backend: 'postgresql', url: 'postgresql://mf:pw@127.0.0.1:9/none', caFile: '' } });
  const handle = openSharedHandle(down, { name: 'filter-down', maxConnections: 4 });
  const reader = openViewerDbReader(down, handle);
  try {
    const lookup = senderListLookup(reader, logger('test'));
    assert.equal(await lookup('carol@company.local', ['news@shop.example']), null);
    assert.equal(await lookup('carol@company.local', ['news@shop.example']), null, 'and again, logged once');
    await assert.rejects(auditSink(reader)({ actor: 'system', action: 'x', client: 'appliance' }), /ECONNREFUSED|connect/i);
  } finally {
    await reader.close();
    await handle?.close();
  }
});

test('0007-sender-lists-unique: duplicates made before it by two nodes at once are made one (the newest stays), and no new one can be made', async () => {
  const admin = nodePool('admin');
  await sql`CREATE DATABASE before_0007`.execute(admin);
  const db = nodePool('upgrade', 'before_0007');
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(SHARED_MIGRATIONS) },
    migrationTableName: 'mailfilter_migrations',
    migrationLockTableName: 'mailfilter_migration_lock',
  });
  assert.equal((await migrator.migrateTo('0006-fetch')).error, undefined);
  const alice = await addUser(db, 'alice', ['alice@company.local']);
  const bob = await addUser(db, 'bob', ['bob@company.local']);
  const entry = (ownerId: number | null, kind: 'allow' | 'block', pattern: string, createdAt: number) => ({
    owner_id: ownerId,
    kind,
    pattern,
    expires_at: null,
    created_by: 'test',
    created_at: createdAt,
  });
  await db
    .insertInto('sender_lists')
    .values([
      entry(alice, 'allow', 'news@partner.example', 1000),
      entry(alice, 'allow', 'news@partner.example', 1001),
      entry(alice, 'allow', 'x@spam.example', 2000),
      entry(alice, 'block', 'x@spam.example', 2005),
      entry(null, 'block', '*@spam.example', 3000),
      entry(null, 'block', '*@spam.example', 3000),
      entry(bob, 'allow', '*@spam.example', 3000),
    ])
    .execute();
  const made = await db.selectFrom('sender_lists').select('id').orderBy('id').execute();

  await migrateShared(db as unknown as Kysely<SharedTables>);
  const rows = await db.selectFrom('sender_lists').select(['id', 'owner_id', 'kind', 'pattern']).orderBy('id').execute();
  const id = (i: number) => Number(made[i]!.id);
  assert.deepEqual(
    rows.map((r) => [Number(r.id), r.owner_id === null ? null : Number(r.owner_id), r.kind, r.pattern]),
    [
      [id(1), alice, 'allow', 'news@partner.example'],
      [id(3), alice, 'block', 'x@spam.example'],
      [id(5), null, 'block', '*@spam.example'],
      [id(6), bob, 'allow', '*@spam.example'],
    ],
    'one per list and pattern: the later decision (block after allow), the higher id at one instant; other lists keep theirs',
  );
  await assert.rejects(
    db
      .insertInto('sender_lists')
      .values(entry(null, 'allow', '*@spam.example', 4000))
      .execute(),
    /duplicate key value violates unique constraint "sender_lists_owner_pattern"/,
  );
  assert.equal((await new SenderLists(nodePool('node-b', 'before_0007')).match('alice@company.local', ['x@spam.example']))?.kind, 'block');
});

test('copying an appliance’s viewer.sqlite: an entry the shared list has already is left as it is there, and said so', async () => {
  const shared = nodePool('copy');
  await emptied(shared);
  const sharedAlice = await addUser(shared, 'alice', ['alice@company.local']);
  const sharedLists = new SenderLists(shared);
  await sharedLists.add({ ownerId: sharedAlice, kind: 'block', pattern: 'news@partner.example', expiresAt: null, createdBy: 'alice on the cluster' });
  await sharedLists.add({ ownerId: null, kind: 'block', pattern: '*@spam.example', expiresAt: null, createdBy: 'vadmin on the cluster' });

  const viewerDir = join(root, 'viewer-copy');
  const local = viewerKysely(openViewerDatabase(viewerDir));
  try {
    const localAlice = await addUser(local, 'alice', ['alice@company.local']);
    const localLists = new SenderLists(local);
    await localLists.add({ ownerId: localAlice, kind: 'allow', pattern: 'news@partner.example', expiresAt: null, createdBy: 'alice here' });
    await localLists.add({ ownerId: localAlice, kind: 'allow', pattern: 'friend@partner.example', expiresAt: null, createdBy: 'alice here' });
    await localLists.add({ ownerId: null, kind: 'block', pattern: '*@spam.example', expiresAt: null, createdBy: 'vadmin here' });
  } finally {
    await local.destroy();
  }
  const lines: string[] = [];
  await copyViewerToShared(viewerDir, shared as unknown as Kysely<SharedTables>, (line) => lines.push(line));
  assert.ok(lines.includes('viewer: 1 list entr(ies) copied, 2 already there'), lines.join('\n'));
  assert.ok(
    lines.includes('viewer: news@partner.example: already on the same list in the shared database with another kind or expiry, kept as it is there'),
    lines.join('\n'),
  );
  assert.deepEqual((await sharedLists.list(sharedAlice)).map((e) => [e.pattern, e.kind, e.createdBy]).sort(), [
    ['friend@partner.example', 'allow', 'alice here'],
    ['news@partner.example', 'block', 'alice on the cluster'],
  ]);
  assert.deepEqual(
    (await sharedLists.list(null)).map((e) => e.createdBy),
    ['vadmin on the cluster'],
  );
});
