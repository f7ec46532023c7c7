import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteAccounts } from '../../support/viewer-accounts-contract.js';
import { normalisePattern, SenderLists, sendersOf } from '../../../runtime/lists/sender-lists.js';
import { senderListLookup } from '../../../runtime/lists/lookup.js';
import { logger } from '../../../runtime/log.js';
import { parseConfig } from '../../../runtime/config/load.js';
import { openViewerDbReader } from '../../../runtime/storage/open-viewer.js';
import { openViewerDatabase, viewerDatabasePath } from '../../../runtime/storage/viewer-db.js';

test('patterns: addresses and *@domain, normalised; anything else refused', () => {
  assert.equal(normalisePattern(' Friend@Example.NET '), 'friend@example.net');
  assert.equal(normalisePattern('*@example.net'), '*@example.net');
  assert.equal(normalisePattern('@example.net'), '*@example.net');
  for (const bad of ['', '*', 'example.net', '*@*', 'a b@example.net', '*@example']) assert.equal(normalisePattern(bad), null, bad);
});

test('senders: the envelope sender and the From: address', () => {
  assert.deepEqual(sendersOf('Bounce+1@List.example', 'Friend <Friend@Example.net>'), ['bounce+1@list.example', 'friend@example.net']);
  assert.deepEqual(sendersOf('', 'friend@example.net (Friend)'), ['friend@example.net']);
  assert.deepEqual(sendersOf('', 'no address here'), []);
});

// Which entry decides, and the stores on both backends: test/support/viewer-stores-contract.ts.

/** The filter's lookup on an appliance whose viewer keeps its database in `dataDir`. */
function filterLookup(dataDir: string) {
  const reader = openViewerDbReader(parseConfig({ viewer: { dataDir } }), null);
  return { lookup: senderListLookup(reader, logger('test')), close: () => reader.close() };
}

test('the filter reads the viewer’s lists with the viewer running and with it stopped', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lists-'));
  const { accounts, db, close } = await openSqliteAccounts(dataDir);
  const alice = await accounts.create({ username: 'alice', password: 'alice-password', source: 'local', addresses: ['alice@company.com'] });
  await new SenderLists(db).add({ ownerId: alice.id, kind: 'block', pattern: 'news@spam.example', expiresAt: null, createdBy: 'alice' });
  const running = filterLookup(dataDir);
  assert.equal((await running.lookup('alice@company.com', ['news@spam.example']))?.kind, 'block');
  await running.close();
  await close();
  const stopped = filterLookup(dataDir);
  assert.equal((await stopped.lookup('alice@company.com', ['news@spam.example']))?.kind, 'block', 'the viewer stopped');
  await stopped.close();
});

test('the filter without a viewer database: no lists, no error; the database is looked for again later, not on every message', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'no-viewer-yet-'));
  const { lookup, close } = filterLookup(dataDir);
  assert.equal(await lookup('a@company.com', ['x@example.net']), null);
  assert.equal(existsSync(viewerDatabasePath(dataDir)), false, 'not made by the filter');
  openViewerDatabase(dataDir).close();
  assert.equal(await lookup('a@company.com', ['x@example.net']), null, 'made since, but not looked for yet');
  await close();
});

test('a viewer database that cannot be read means no list entry', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'broken-viewer-'));
  writeFileSync(viewerDatabasePath(dataDir), 'not a database at all, but long enough to be read as one '.repeat(100));
  const { lookup, close } = filterLookup(dataDir);
  assert.equal(await lookup('a@company.com', ['x@example.net']), null);
  assert.equal(await lookup('a@company.com', ['x@example.net']), null, 'and again');
  await close();
});
