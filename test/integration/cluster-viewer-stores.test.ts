// The viewer's stores in the shared PostgreSQL (Debian's PostgreSQL 15 on loopback, TLS): the same
// contract as one appliance's viewer.sqlite, each case through two nodes' connections, then the
// filter's own way in (openViewerDbReader with storage.backend postgresql): a list entry made through node B decides node A's next
// message, its audit line lands in the shared log, and a database that is gone means "no entry".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { AuditLog } from '../../runtime/actions/audit.js';
import { parseConfig } from '../../runtime/config/load.js';
import { auditSink } from '../../runtime/filter/audit-sink.js';
import { senderListLookup } from '../../runtime/lists/lookup.js';
import { SenderLists } from '../../runtime/lists/sender-lists.js';
import { logger } from '../../runtime/log.js';
import { openViewerDbReader } from '../../runtime/storage/open-viewer.js';
import { openPostgres } from '../../runtime/storage/postgres.js';
import { migrateShared, type SharedTables } from '../../runtime/storage/shared-schema.js';
import type { ViewerDatabase } from '../../runtime/storage/viewer-db.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { makeTestCerts } from '../support/tls.js';
import { addUser, viewerStoresContract } from '../support/viewer-stores-contract.js';

const root = mkdtempSync(join(tmpdir(), 'mailfilter-cluster-viewer-'));
let server: TestPostgres | undefined;
const pools: Array<Kysely<SharedTables>> = [];

function nodePool(name: string): ViewerDatabase {
  const db = openPostgres<SharedTables>({ url: server!.url, caFile: server!.caFile, applicationName: name, maxConnections: 4 });
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
  const filterOnA = openViewerDbReader(nodeConfig(), 'filter-a');
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
  }
});

test('with the shared database gone, the filter’s lookup is "no entry" (the other checks decide) and its audit line fails to the caller', async () => {
  const down = parseConfig({ storage: { backend: 'postgresql', url: 'postgresql://mf:pw@127.0.0.1:9/none', caFile: '' } });
  const reader = openViewerDbReader(down, 'filter-down');
  try {
    const lookup = senderListLookup(reader, logger('test'));
    assert.equal(await lookup('carol@company.local', ['news@shop.example']), null);
    assert.equal(await lookup('carol@company.local', ['news@shop.example']), null, 'and again, logged once');
    await assert.rejects(auditSink(reader)({ actor: 'system', action: 'x', client: 'appliance' }), /ECONNREFUSED|connect/i);
  } finally {
    await reader.close();
  }
});
