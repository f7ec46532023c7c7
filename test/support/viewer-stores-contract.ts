// What the viewer's stores (sender lists, audit log, release requests, settings and digest state,
// used link tokens) do, whichever database holds them: the same cases run against one appliance's
// viewer.sqlite (test/unit/storage/viewer-stores.test.ts) and the shared PostgreSQL
// (test/integration/cluster-viewer-stores.test.ts). Each case has two handles on one database, A
// and B: two nodes of a cluster there, the viewer and the filter here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditLog, viaLink } from '../../runtime/actions/audit.js';
import { ReleaseRequests } from '../../runtime/actions/release-requests.js';
import { ViewerSettings } from '../../runtime/actions/settings.js';
import { UsedTokens, type ActionClaims } from '../../runtime/actions/tokens.js';
import { senderListLookup } from '../../runtime/lists/lookup.js';
import { SenderLists, type ListKind } from '../../runtime/lists/sender-lists.js';
import { logger } from '../../runtime/log.js';
import type { ViewerDatabase } from '../../runtime/storage/viewer-db.js';

export interface TwoHandles {
  a: ViewerDatabase;
  b: ViewerDatabase;
  close(): Promise<void>;
}

/** Two handles on one empty viewer database; the contract closes them. */
export type OpenTwoHandles = () => Promise<TwoHandles>;

/** A user with addresses, written as the accounts write them (the accounts have tests of their own). */
export async function addUser(db: ViewerDatabase, username: string, addresses: string[], isAdmin = false): Promise<number> {
  const { id } = await db
    .insertInto('users')
    .values({ username, password_hash: null, source: 'local', is_admin: isAdmin ? 1 : 0 })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (addresses.length > 0)
    await db
      .insertInto('addresses')
      .values(addresses.map((address) => ({ address, user_id: id })))
      .execute();
  return id;
}

const claims = (nonce: string, expiresAt = Date.now() + 86400_000): ActionClaims => ({ action: 'release', messageId: 'msg-1', userId: 1, expiresAt, nonce });

export function viewerStoresContract(backend: string, openTwo: OpenTwoHandles): void {
  const withHandles = (name: string, body: (handles: TwoHandles) => Promise<void>): void =>
    void test(`${backend}: ${name}`, async () => {
      const handles = await openTwo();
      try {
        await body(handles);
      } finally {
        await handles.close();
      }
    });

  withHandles('the most specific entry decides: own before global, address before domain, block before allow; expired ones do not count', async ({ a }) => {
    const alice = await addUser(a, 'alice', ['alice@company.com', 'a@company.com']);
    await addUser(a, 'bob', ['bob@company.com']);
    const lists = new SenderLists(a);
    const add = (ownerId: number | null, kind: ListKind, pattern: string, expiresAt: number | null = null) =>
      lists.add({ ownerId, kind, pattern, expiresAt, createdBy: 'test' });
    await add(null, 'block', '*@spam.example');
    await add(alice, 'allow', 'news@spam.example');
    await add(null, 'allow', '*@partner.example');
    await add(null, 'block', 'mallory@partner.example');
    await add(alice, 'block', '*@old.example', Date.now() - 1000);
    assert.equal((await lists.match('alice@company.com', ['news@spam.example']))?.kind, 'allow', 'her own entry beats the global block');
    assert.equal((await lists.match('A@Company.com', ['news@spam.example']))?.list, 'alice', 'for every address of hers');
    assert.equal((await lists.match('bob@company.com', ['news@spam.example']))?.kind, 'block', 'not for bob');
    assert.equal((await lists.match('bob@company.com', ['mallory@partner.example']))?.kind, 'block', 'an address beats its domain');
    assert.equal((await lists.match('bob@company.com', ['ann@partner.example']))?.kind, 'allow');
    assert.equal(await lists.match('alice@company.com', ['x@old.example']), null, 'expired');
    assert.equal(await lists.match('nobody@company.com', ['x@elsewhere.example']), null);
    assert.deepEqual(await lists.match('bob@company.com', ['bounce@list.example', 'Ann@Partner.example']), {
      kind: 'allow',
      pattern: '*@partner.example',
      list: 'global',
      sender: 'Ann@Partner.example',
    });
    await add(alice, 'block', 'News@Spam.example');
    assert.equal((await lists.list(alice)).filter((e) => e.pattern === 'news@spam.example').length, 1, 'one entry per pattern and list: the newest wins');
    assert.equal((await lists.match('alice@company.com', ['news@spam.example']))?.kind, 'block');
  });

  withHandles('entries are listed per list, newest first, with their owner, and removed', async ({ a }) => {
    const alice = await addUser(a, 'alice', ['alice@company.com']);
    const lists = new SenderLists(a);
    const first = await lists.add({ ownerId: alice, kind: 'allow', pattern: ' Friend@Example.NET ', expiresAt: null, createdBy: 'alice' });
    const second = await lists.add({ ownerId: alice, kind: 'block', pattern: '@spam.example', expiresAt: 4_102_444_800_000, createdBy: 'alice' });
    const global = await lists.add({ ownerId: null, kind: 'block', pattern: 'x@spam.example', expiresAt: null, createdBy: 'vadmin' });
    assert.deepEqual(
      (await lists.list(alice)).map((e) => [e.pattern, e.kind, e.ownerId, e.ownerName, e.expiresAt]),
      [
        ['*@spam.example', 'block', alice, 'alice', 4_102_444_800_000],
        ['friend@example.net', 'allow', alice, 'alice', null],
      ],
    );
    assert.deepEqual(
      (await lists.list(null)).map((e) => [e.id, e.ownerName, e.createdBy]),
      [[global.id, null, 'vadmin']],
    );
    assert.equal((await lists.get(first.id))?.pattern, 'friend@example.net');
    await lists.remove(second.id);
    assert.equal(await lists.get(second.id), undefined);
    await assert.rejects(lists.add({ ownerId: null, kind: 'allow', pattern: 'example.net', expiresAt: null, createdBy: 'vadmin' }), /not an address/);
  });

  withHandles('the same entry added through A and B at once is one entry, changed in place by a later add, and gone with one remove', async ({ a, b }) => {
    const alice = await addUser(a, 'alice', ['alice@company.com']);
    const add = (db: ViewerDatabase, ownerId: number | null, kind: ListKind, pattern: string) =>
      new SenderLists(db).add({ ownerId, kind, pattern, expiresAt: null, createdBy: db === a ? 'on A' : 'on B' });
    const patterns = Array.from({ length: 20 }, (_, i) => `sender${i}@race.example`);
    await Promise.all(patterns.flatMap((p) => [add(a, alice, 'allow', p), add(b, alice, 'allow', p), add(a, null, 'block', p), add(b, null, 'block', p)]));
    const lists = new SenderLists(a);
    for (const owner of [alice, null])
      assert.deepEqual(
        (await lists.list(owner)).map((e) => e.pattern).sort(),
        [...patterns].sort(),
        `one entry per pattern on ${owner ? 'her' : 'the global'} list`,
      );

    const [first, second] = await Promise.all([add(a, alice, 'allow', 'both@race.example'), add(b, alice, 'block', 'both@race.example')]);
    assert.equal(first.id, second.id, 'both adds answer with the one entry');
    const [entry] = (await lists.list(alice)).filter((e) => e.pattern === 'both@race.example');
    assert.ok(entry && ['allow', 'block'].includes(entry.kind), 'of the one that came last');
    const again = await add(b, alice, 'block', 'Both@Race.example');
    assert.deepEqual([again.id, again.kind, again.createdBy], [entry.id, 'block', 'on B'], 'an add of an entry there already changes it in place');
    await new SenderLists(b).remove(again.id);
    assert.equal(await lists.match('alice@company.com', ['both@race.example']), null, 'one remove, and nothing is left behind');
  });

  withHandles('a list entry added through B decides the next lookup through A (the filter on another node)', async ({ a, b }) => {
    const bob = await addUser(b, 'bob', ['bob@company.com']);
    const lookupOnA = senderListLookup({ current: () => a, where: 'node A', close: async () => undefined }, logger('test'));
    assert.equal(await lookupOnA('bob@company.com', ['news@shop.example']), null);
    const entry = await new SenderLists(b).add({ ownerId: bob, kind: 'block', pattern: '*@shop.example', expiresAt: null, createdBy: 'bob' });
    assert.equal((await lookupOnA('bob@company.com', ['news@shop.example']))?.kind, 'block');
    await new SenderLists(b).remove(entry.id);
    assert.equal(await lookupOnA('bob@company.com', ['news@shop.example']), null, 'and its removal too');
  });

  withHandles('the audit log holds both handles’ lines, newest first, searched by message, actor (with link actions) or action', async ({ a, b }) => {
    const onA = new AuditLog(a);
    const onB = new AuditLog(b);
    await onA.record({ actor: 'alice', action: 'view', messageId: 'msg-1', client: '10.0.0.1' });
    await onB.record({ actor: viaLink('alice'), action: 'release', messageId: 'msg-2', detail: 'to alice@company.com', client: '10.0.0.2' });
    await onB.record({ actor: 'vadmin', action: 'settings', client: '10.0.0.3', detail: 'x'.repeat(2000) });
    for (const log of [onA, onB]) {
      assert.equal(await log.count(), 3);
      assert.deepEqual(
        (await log.list({ limit: 10, offset: 0 })).map((r) => [r.actor, r.action, r.messageId]),
        [
          ['vadmin', 'settings', ''],
          ['alice (digest link)', 'release', 'msg-2'],
          ['alice', 'view', 'msg-1'],
        ],
      );
    }
    assert.equal((await onA.list({ limit: 1, offset: 0 }))[0]?.detail.length, 1000, 'a detail is cut at 1000 characters');
    assert.deepEqual(
      (await onA.list({ limit: 10, offset: 0, search: 'alice' })).map((r) => r.messageId),
      ['msg-2', 'msg-1'],
      'a user’s own lines and their link actions',
    );
    assert.equal(await onA.count('alice'), 2);
    assert.equal(await onA.count('msg-2'), 1);
    assert.equal(await onA.count('settings'), 1);
    assert.equal(await onA.count('nobody'), 0);
    assert.deepEqual(
      (await onA.list({ limit: 1, offset: 1 })).map((r) => r.action),
      ['release'],
      'paged',
    );
  });

  withHandles('a digest link used through A is refused through B, until given back; expired ones are cleared', async ({ a, b }) => {
    const [onA, onB] = [new UsedTokens(a), new UsedTokens(b)];
    const link = claims('nonce-1');
    assert.equal(await onB.usedAt('nonce-1'), null);
    assert.equal(await onA.use(link), true);
    assert.equal(await onB.use(link), false, 'the second click, on another node, does nothing');
    assert.equal(typeof (await onB.usedAt('nonce-1')), 'number');
    await onB.release(link);
    assert.equal(await onA.use(link), true, 'given back after a failed action, it works again');
    const [first, second] = await Promise.all([onA.use(claims('nonce-2')), onB.use(claims('nonce-2'))]);
    assert.equal(Number(first) + Number(second), 1, 'of two clicks at once, one acts');
    await a
      .insertInto('used_tokens')
      .values({ nonce: 'old', used_at: 1, expires_at: Date.now() - 1000 })
      .execute();
    await onB.use(claims('nonce-3'));
    assert.equal(await onA.usedAt('old'), null, 'a nonce whose link has expired is not kept');
  });

  withHandles('settings and digest state saved through A are read through B', async ({ a, b }) => {
    const alice = await addUser(a, 'alice', ['alice@company.com']);
    const [onA, onB] = [new ViewerSettings(a), new ViewerSettings(b)];
    assert.deepEqual(await onB.admin(), { digestFrequency: 'daily', selfRelease: ['SPAM', 'BADH'] }, 'the defaults');
    await onA.saveAdmin({ digestFrequency: 'weekly', selfRelease: ['SPAM'] });
    assert.deepEqual(await onB.admin(), { digestFrequency: 'weekly', selfRelease: ['SPAM'] });
    await onB.saveAdmin({ digestFrequency: 'off', selfRelease: [] });
    assert.deepEqual(await onA.admin(), { digestFrequency: 'off', selfRelease: [] });
    assert.equal(await onB.userFrequency(alice), null);
    assert.equal(await onB.effectiveFrequency(alice), 'off', 'everyone’s default');
    await onA.setLastDigestAt(alice, 1_000);
    await onA.setUserFrequency(alice, 'daily');
    assert.equal(await onB.effectiveFrequency(alice), 'daily', 'her own choice');
    assert.equal(await onB.lastDigestAt(alice), 1_000, 'the last digest is kept beside her choice');
    await onB.setLastDigestAt(alice, 2_000);
    assert.equal(await onA.lastDigestAt(alice), 2_000, 'a digest sent by B counts on A');
    assert.equal(await onA.userFrequency(alice), 'daily');
    await onA.setUserFrequency(alice, null);
    assert.equal(await onB.effectiveFrequency(alice), 'off');
  });

  withHandles('release requests: one open per user and message, decided once, whichever handle', async ({ a, b }) => {
    const alice = await addUser(a, 'alice', ['alice@company.com', 'a@company.com']);
    const bob = await addUser(a, 'bob', ['bob@company.com']);
    const [onA, onB] = [new ReleaseRequests(a), new ReleaseRequests(b)];
    const first = await onA.request('msg-1', alice, ['alice@company.com', 'a@company.com']);
    assert.equal(first.isNew, true);
    assert.deepEqual(
      [first.request.username, first.request.recipients, first.request.status, first.request.decidedBy],
      ['alice', ['alice@company.com', 'a@company.com'], 'pending', null],
    );
    const again = await onB.request('msg-1', alice, ['alice@company.com']);
    assert.deepEqual([again.isNew, again.request.id], [false, first.request.id], 'asking twice keeps the first');
    await onB.request('msg-2', bob, ['bob@company.com']);
    assert.deepEqual(
      (await onA.pending()).map((r) => [r.messageId, r.username]),
      [
        ['msg-1', 'alice'],
        ['msg-2', 'bob'],
      ],
    );
    assert.equal(await onB.decide(first.request.id, 'approved', 'vadmin'), true);
    assert.equal(await onA.decide(first.request.id, 'denied', 'vadmin'), false, 'already decided');
    const decided = (await onA.get(first.request.id))!;
    assert.deepEqual([decided.status, decided.decidedBy, typeof decided.decidedAt], ['approved', 'vadmin', 'number']);
    const latest = await onA.latestFor(alice, ['msg-1', 'msg-2', 'msg-3']);
    assert.deepEqual([...latest.keys()], ['msg-1'], 'her requests only');
    assert.equal((await onA.latestFor(null, ['msg-1', 'msg-2'])).size, 2, 'everyone’s, for the administrator');
    assert.equal((await onB.latestFor(null, [])).size, 0);
    await onA.reopen(first.request.id);
    assert.deepEqual((await onB.pending()).length, 2, 'reopened when the release could not be delivered');
    assert.equal((await onB.get(first.request.id))?.decidedBy, null);
    assert.equal(await onB.get(999_999), undefined);
  });
}
