// Viewer accounts in the shared PostgreSQL (Debian's PostgreSQL 15 on loopback, TLS): the same
// contract as one appliance's viewer.sqlite, then what sharing adds: one login for every node, login
// limits counted across nodes, and one vadmin however many nodes open a new database at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { ViewerAccounts } from '../../runtime/accounts/viewer-accounts.js';
import { reserveLoginAttempt } from '../../runtime/viewer/login-limits.js';
import { openPostgres } from '../../runtime/storage/postgres.js';
import { migrateShared, type SharedTables } from '../../runtime/storage/shared-schema.js';
import type { ViewerDatabase } from '../../runtime/storage/viewer-db.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { viewerAccountsContract } from '../support/viewer-accounts-contract.js';
import { makeTestCerts } from '../support/tls.js';

const root = mkdtempSync(join(tmpdir(), 'mailfilter-cluster-accounts-'));
let server: TestPostgres | undefined;
const pools: Array<Kysely<SharedTables>> = [];

/** A node's own connection pool on the shared database, seen through the viewer's tables. */
function nodeDb(name: string): ViewerDatabase {
  const db = openPostgres<SharedTables>({ url: server!.url, caFile: server!.caFile, applicationName: name, maxConnections: 4 });
  pools.push(db);
  return db as unknown as ViewerDatabase;
}

const empty = async () => {
  await sql`TRUNCATE users, addresses, sessions, failed_logins RESTART IDENTITY CASCADE`.execute(pools[0]!);
};

before(async () => {
  server = await startPostgres(makeTestCerts(join(root, 'certs')));
  nodeDb('migrate');
  await migrateShared(pools[0]!);
});

after(async () => {
  for (const db of pools) await db.destroy().catch(() => undefined);
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

viewerAccountsContract('PostgreSQL', async () => {
  await empty();
  // The pool stays open for the other tests; the contract's close is a no-op here.
  return { db: pools[0]! as unknown as ViewerDatabase, close: async () => undefined };
});

test('three nodes opening a new shared database at once make one vadmin', async () => {
  await empty();
  const nodes = [nodeDb('node-a'), nodeDb('node-b'), nodeDb('node-c')];
  const opened = await Promise.all(nodes.map((db) => ViewerAccounts.open(db, 8)));
  const admins = await opened[0]!.list();
  assert.deepEqual(
    admins.map((u) => [u.username, u.isAdmin]),
    [['vadmin', true]],
  );
  for (const accounts of opened) assert.equal((await accounts.findByName('VAdmin'))?.id, admins[0]!.id, 'the same vadmin on every node');
});

test('a user made on node A logs in through node B; a session made through A is valid through B and ended through B for A', async () => {
  await empty();
  const [a, b] = [await ViewerAccounts.open(nodeDb('node-a'), 8), await ViewerAccounts.open(nodeDb('node-b'), 8)];
  const alice = await a.create({ username: 'alice', password: 'alice-password', source: 'local', addresses: ['Alice@Company.com'] });
  assert.equal((await b.findByName('ALICE'))?.id, alice.id);
  assert.equal((await b.findByAddress('alice@company.com'))?.username, 'alice');
  const { token, csrfToken } = await a.createSession(alice.id);
  const onB = await b.session(token);
  assert.equal(onB?.user.username, 'alice', 'one login for the cluster');
  assert.equal(onB?.csrfToken, csrfToken, 'a form from node A’s page is accepted by node B');
  await b.setPassword(alice.id, 'alice-password-2');
  await b.endSessionsOf(alice.id);
  assert.equal(await a.session(token), undefined, 'a password changed on B ends the session A made');
});

test('login limits count across nodes: guesses spread over two nodes meet one limit', async () => {
  await empty();
  const [a, b] = [await ViewerAccounts.open(nodeDb('node-a'), 8), await ViewerAccounts.open(nodeDb('node-b'), 8)];
  await a.create({ username: 'carol', password: 'carol-password-1', source: 'local', addresses: ['carol@company.com'] });
  // Twelve guesses at once from one address, half to each node: five are let through, not ten.
  const attempts = await Promise.all(Array.from({ length: 12 }, (_, i) => reserveLoginAttempt(i % 2 ? a : b, 'carol', '10.2.0.1')));
  assert.equal(attempts.filter((x) => x.allowed).length, 5, 'five checked, across both nodes');
  const refused = await reserveLoginAttempt(a, 'carol', '10.2.0.1');
  assert.equal(refused.allowed, false, 'and the next one through either node waits');
  assert.ok(!refused.allowed && refused.retryAfterSeconds > 0);
  // The per-account limit from many addresses: ten free failures in all, wherever they land.
  for (let i = 0; i < 5; i++) assert.ok((await reserveLoginAttempt(i % 2 ? a : b, 'carol@company.com', `10.2.1.${i}`)).allowed);
  assert.equal((await reserveLoginAttempt(b, 'Carol', '10.2.1.99')).allowed, false, 'the account waits on both nodes');
});
