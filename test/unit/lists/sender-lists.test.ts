import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ViewerAccounts } from '../../../runtime/accounts/viewer-accounts.js';
import { normalisePattern, SenderLists, sendersOf } from '../../../runtime/lists/sender-lists.js';
import { openSenderListLookup } from '../../../runtime/lists/lookup.js';
import { logger } from '../../../runtime/log.js';

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

test('the most specific entry decides: own before global, address before domain, block before allow; expired ones do not count', async () => {
  const accounts = await ViewerAccounts.open(mkdtempSync(join(tmpdir(), 'lists-')), 8);
  const alice = await accounts.create({ username: 'alice', password: 'alice-password', source: 'local', addresses: ['alice@company.com', 'a@company.com'] });
  await accounts.create({ username: 'bob', password: 'bob-password-1', source: 'local', addresses: ['bob@company.com'] });
  const lists = new SenderLists(accounts.db);
  const add = (ownerId: number | null, kind: 'allow' | 'block', pattern: string, expiresAt: number | null = null) =>
    lists.add({ ownerId, kind, pattern, expiresAt, createdBy: 'test' });
  add(null, 'block', '*@spam.example');
  add(alice.id, 'allow', 'news@spam.example');
  add(null, 'allow', '*@partner.example');
  add(null, 'block', 'mallory@partner.example');
  add(alice.id, 'block', '*@old.example', Date.now() - 1000);
  assert.equal(lists.match('alice@company.com', ['news@spam.example'])?.kind, 'allow', 'her own entry beats the global block');
  assert.equal(lists.match('A@Company.com', ['news@spam.example'])?.list, 'alice', 'for every address of hers');
  assert.equal(lists.match('bob@company.com', ['news@spam.example'])?.kind, 'block', 'not for bob');
  assert.equal(lists.match('bob@company.com', ['mallory@partner.example'])?.kind, 'block', 'an address beats its domain');
  assert.equal(lists.match('bob@company.com', ['ann@partner.example'])?.kind, 'allow');
  assert.equal(lists.match('alice@company.com', ['x@old.example']), null, 'expired');
  assert.equal(lists.match('nobody@company.com', ['x@elsewhere.example']), null);
  add(alice.id, 'block', 'News@Spam.example');
  assert.equal(lists.list(alice.id).filter((e) => e.pattern === 'news@spam.example').length, 1, 'one entry per pattern and list: the newest wins');
  assert.equal(lists.match('alice@company.com', ['news@spam.example'])?.kind, 'block');

  // The filter's view of the same database, with the viewer running and with it stopped.
  const dataDir = join(accounts.db.name, '..');
  const lookup = openSenderListLookup(dataDir, logger('test'));
  assert.equal(lookup('alice@company.com', ['news@spam.example'])?.kind, 'block');
  lookup.close();
  accounts.close();
  const afterViewer = openSenderListLookup(dataDir, logger('test'));
  assert.equal(afterViewer('alice@company.com', ['news@spam.example'])?.kind, 'block', 'the viewer stopped');
  afterViewer.close();
});

test('the filter without a viewer database: no lists, no error', () => {
  const lookup = openSenderListLookup(join(tmpdir(), 'no-such-viewer-dir'), logger('test'));
  assert.equal(lookup('a@company.com', ['x@example.net']), null);
  lookup.close();
});
