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
import { openSharedHandle } from '../../runtime/storage/shared-handle.js';
import { openPostgres } from '../../runtime/storage/postgres.js';
import { migrateShared, type SharedTables } from '../../runtime/storage/shared-schema.js';
import { setInitialAdminPassword } from '../../runtime/accounts/admin-password.js';
import { ViewerAccounts } from '../../runtime/accounts/viewer-accounts.js';
import { localAuthenticator } from '../../runtime/accounts/authenticate.js';
import { AuditLog } from '../../runtime/actions/audit.js';
import { ReleaseRequests } from '../../runtime/actions/release-requests.js';
import { ViewerSettings } from '../../runtime/actions/settings.js';
import { UsedTokens } from '../../runtime/actions/tokens.js';
import { SenderLists } from '../../runtime/lists/sender-lists.js';
import { openViewerDatabase, viewerKysely, type ViewerDatabase } from '../../runtime/storage/viewer-db.js';
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

/** A SQLite appliance's viewer database with a bit of everything; the ids it gave, by user name. */
async function fillLocalViewer(dataDir: string): Promise<Record<string, number>> {
  const db = viewerKysely(openViewerDatabase(dataDir));
  const accounts = await ViewerAccounts.open(db, 1);
  const vadmin = (await accounts.findByName('vadmin'))!.id;
  await accounts.setPassword(vadmin, 'local-admin-password');
  const alice = (await accounts.create({ username: 'alice', password: 'alice-password-1', source: 'local', addresses: ['alice@company.local'] })).id;
  const bob = (await accounts.createDirectoryUser({ username: 'bob', addresses: ['bob@company.local', 'taken@company.local'] })).id;
  const carol = (await accounts.create({ username: 'carol', password: 'local-carol-password', source: 'local', addresses: ['carol@company.local'] })).id;
  const lists = new SenderLists(db);
  await lists.add({ ownerId: null, kind: 'block', pattern: '*@bad.example', expiresAt: null, createdBy: 'vadmin' });
  await lists.add({ ownerId: alice, kind: 'allow', pattern: 'friend@partner.example', expiresAt: null, createdBy: 'alice' });
  await lists.add({ ownerId: bob, kind: 'block', pattern: 'pest@nuisance.example', expiresAt: Date.UTC(2027, 0, 1), createdBy: 'bob' });
  const audit = new AuditLog(db);
  await audit.record({ actor: 'vadmin', action: 'release', messageId: 'local-2', detail: 'bob@company.local', client: '192.0.2.1' });
  await audit.record({ actor: 'alice', action: 'login', client: '192.0.2.2' });
  await audit.record({ actor: 'system', action: 'digest', detail: 'sent 2', client: 'appliance' });
  await new ReleaseRequests(db).request('local-1', bob, ['bob@company.local']);
  const settings = new ViewerSettings(db);
  await settings.saveAdmin({ digestFrequency: 'weekly', selfRelease: ['SPAM', 'BADH'] });
  await settings.setUserFrequency(alice, 'daily');
  await settings.setLastDigestAt(alice, Date.UTC(2026, 11, 1));
  await new UsedTokens(db).use({ action: 'release', messageId: 'local-3', userId: alice, expiresAt: Date.UTC(2027, 0, 1), nonce: 'used-nonce-1' });
  await db.destroy();
  return { vadmin, alice, bob, carol };
}

/** What the shared stores see of the viewer's rows, ids replaced by names: the same before and after a second run. */
async function viewerSnapshot(db: ViewerDatabase) {
  const accounts = ViewerAccounts.on(db, 1);
  // By name without regard to case: the database's collation does not decide the order.
  const users = (await accounts.list()).sort((a, b) => a.username.toLowerCase().localeCompare(b.username.toLowerCase()));
  const name = (id: number | null) => (id === null ? null : users.find((u) => u.id === id)!.username);
  const lists = new SenderLists(db);
  const settings = new ViewerSettings(db);
  const alice = users.find((u) => u.username === 'alice')!;
  return {
    users: users.map((u) => [u.username, u.source, u.isAdmin, u.addresses.sort()]),
    lists: (await Promise.all([null, ...users.map((u) => u.id)].map((owner) => lists.list(owner))))
      .flat()
      .map((e) => [name(e.ownerId), e.kind, e.pattern, e.expiresAt, e.createdBy]),
    audit: (await new AuditLog(db).list({ limit: 100, offset: 0 })).map((r) => [r.actor, r.action, r.messageId, r.detail, r.client]),
    requests: (await new ReleaseRequests(db).pending()).map((r) => [r.messageId, r.username, r.recipients, r.status]),
    settings: await settings.admin(),
    aliceDigest: [await settings.userFrequency(alice.id), await settings.lastDigestAt(alice.id)],
    nonce: (await new UsedTokens(db).usedAt('used-nonce-1')) !== null,
  };
}

test('`mailfilter storage migrate --to postgresql` copies a quarantine with its releases and counts, and the viewer database, and carries on when run again', async () => {
  const viewerDir = join(root, 'local-viewer');
  const localIds = await fillLocalViewer(viewerDir);
  // The shared database has users already (made through another node): ids there differ from here,
  // Carol exists (another password) and one of bob's addresses is another user's.
  const sharedViewer = pools[0]! as unknown as ViewerDatabase;
  const sharedAccounts = await ViewerAccounts.open(sharedViewer, 1);
  await sharedAccounts.create({ username: 'zed', password: 'zed-password-12', source: 'local', addresses: ['taken@company.local'] });
  await sharedAccounts.create({ username: 'Carol', password: 'shared-carol-password', source: 'local', addresses: [] });

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
  writeFileSync(
    configFile,
    JSON.stringify({ quarantine: { dir: quarantineDir }, viewer: { dataDir: viewerDir }, storage: { url: server!.url, caFile: server!.caFile } }),
  );
  const run = () =>
    execFileSync('node', ['--import', 'tsx', 'runtime/cli.ts', 'storage', 'migrate', '--to', 'postgresql', '--config', configFile], {
      encoding: 'utf8',
      env: { ...process.env, MAILFILTER_LOG_LEVEL: 'warn' },
    });
  const first = run();
  assert.match(first, /quarantine: 3 of 3 messages/);
  assert.match(first, /3 message\(s\) copied, 0 already there/);
  assert.match(first, /Set storage\.backend to "postgresql"/);
  assert.match(first, /viewer: 2 user\(s\) copied, 2 already there/);
  assert.match(first, /viewer: vadmin, carol: an account of that name was already in the shared database and is kept/);
  assert.match(first, /viewer: taken@company\.local: already another user's address/);
  assert.match(first, /audit: 3 of 3 lines/);
  assert.match(first, /viewer: 3 audit line\(s\) copied, 0 already there/);
  assert.match(first, /sessions and failed logins not copied: users log in again/);
  const copiedViewer = await viewerSnapshot(sharedViewer);
  const second = run();
  assert.match(second, /0 message\(s\) copied, 3 already there/);
  assert.match(second, /viewer: 0 user\(s\) copied, 4 already there/);
  assert.match(second, /viewer: 0 address\(es\) copied, 3 already there/);
  assert.match(second, /viewer: 0 list entr\(ies\) copied, 3 already there/);
  assert.match(second, /viewer: 0 audit line\(s\) copied, 3 already there/);
  assert.match(second, /viewer: 0 release request\(s\) copied, 1 already there/);
  assert.match(second, /viewer: digest state of 0 user\(s\) and 0 used link nonce\(s\) copied/);
  assert.deepEqual(await viewerSnapshot(sharedViewer), copiedViewer, 'a second run changes nothing');

  // Every row is found through the shared stores, owners mapped to the shared ids.
  assert.deepEqual(copiedViewer.users, [
    ['alice', 'local', false, ['alice@company.local']],
    ['bob', 'ldap', false, ['bob@company.local']],
    ['Carol', 'local', false, ['carol@company.local']],
    ['vadmin', 'local', true, []],
    ['zed', 'local', false, ['taken@company.local']],
  ]);
  const alice = (await sharedAccounts.findByName('alice'))!;
  assert.notEqual(alice.id, localIds.alice, 'the shared database numbered alice itself');
  const authenticate = localAuthenticator(sharedAccounts);
  assert.equal((await authenticate('alice', 'alice-password-1'))?.username, 'alice', "alice's password came along");
  assert.equal((await authenticate('carol', 'shared-carol-password'))?.username, 'Carol', "the shared Carol's password is kept");
  assert.equal(await sharedAccounts.adminPasswordIsInitial(), true, "the shared vadmin is kept: this appliance's password did not come along");
  assert.deepEqual(
    copiedViewer.lists.sort(),
    [
      [null, 'block', '*@bad.example', null, 'vadmin'],
      ['alice', 'allow', 'friend@partner.example', null, 'alice'],
      ['bob', 'block', 'pest@nuisance.example', Date.UTC(2027, 0, 1), 'bob'],
    ].sort(),
  );
  assert.deepEqual(copiedViewer.audit.sort(), [
    ['alice', 'login', '', '', '192.0.2.2'],
    ['system', 'digest', '', 'sent 2', 'appliance'],
    ['vadmin', 'release', 'local-2', 'bob@company.local', '192.0.2.1'],
  ]);
  assert.deepEqual(copiedViewer.requests, [['local-1', 'bob', ['bob@company.local'], 'pending']]);
  assert.deepEqual(copiedViewer.settings, { digestFrequency: 'weekly', selfRelease: ['SPAM', 'BADH'] });
  assert.deepEqual(copiedViewer.aliceDigest, ['daily', Date.UTC(2026, 11, 1)]);
  assert.equal(copiedViewer.nonce, true);
  // The filter's lookup sees the copied per-user list.
  assert.equal((await new SenderLists(sharedViewer).match('alice@company.local', ['friend@partner.example']))?.kind, 'allow');

  // Apply on a node of this cluster sets vadmin's first password in the shared database, where the
  // viewer reads it (not in the node's own viewer.sqlite).
  const nodeConfig = parseConfig({
    viewer: { dataDir: join(root, 'node-viewer') },
    storage: { backend: 'postgresql', url: server!.url, caFile: server!.caFile },
  });
  const password = await setInitialAdminPassword(nodeConfig);
  assert.ok(password);
  assert.equal((await authenticate('vadmin', password))?.username, 'vadmin');
  assert.equal(await sharedAccounts.adminPasswordIsInitial(), false);

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
  const shared = openSharedHandle(config, { name: 'down-at-start', maxConnections: 2 });
  const store = await openQuarantine(config, shared);
  try {
    const spool = join(root, 'down.eml');
    writeFileSync(spool, 'Subject: down\r\n\r\nbody\r\n');
    await assert.rejects(store.add(spool, heldInput({ subject: 'down' })), /ECONNREFUSED|connect/i);
  } finally {
    await store.close();
    await shared?.close();
  }
});
