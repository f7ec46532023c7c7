// One message, two recipients with different sender lists: bob's copy is delivered, carol's is to be
// quarantined while the quarantine folder refuses writes. Real Postfix, filter, clamd and spamd: bob
// is answered 250 and gets one copy; only carol is deferred, and Postfix's retry quarantines hers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startChain, type Chain } from '../support/chain.js';
import { buildMessage } from '../support/messages.js';
import { waitFor } from '../support/net.js';
import { makeReadOnly, makeWritable } from '../support/read-only-dir.js';
import { openSqliteAccounts } from '../support/viewer-accounts-contract.js';
import { SenderLists } from '../../runtime/lists/sender-lists.js';

let chain: Chain | undefined;
let closeAccounts: (() => Promise<void>) | undefined;
let messagesDir = '';

before(
  async () => {
    chain = await startChain();
    messagesDir = join(chain.config.quarantine.dir, 'messages');
    // The viewer's database, where carol blocks the sender; bob has no entry.
    const { accounts, db, close } = await openSqliteAccounts(chain.config.viewer.dataDir);
    closeAccounts = close;
    const carol = await accounts.create({ username: 'carol', password: 'carols-password', source: 'local', addresses: ['carol@company.local'] });
    await new SenderLists(db).add({ ownerId: carol.id, kind: 'block', pattern: 'news@example.net', expiresAt: null, createdBy: 'test' });
  },
  { timeout: 240_000 },
);

after(
  async () => {
    if (messagesDir) makeWritable(messagesDir);
    await closeAccounts?.();
    await chain?.stop();
  },
  { timeout: 60_000 },
);

test('a quarantine write that fails defers only its own recipients: Postfix delivers the others once', { timeout: 180_000 }, async () => {
  const c = chain!;
  const subject = `groups ${Date.now()}`;
  makeReadOnly(messagesDir);
  const sent = await c.send(buildMessage({ from: 'News <news@example.net>', to: 'team@company.local', subject }), {
    from: 'news@example.net',
    to: ['bob@company.local', 'carol@company.local'],
  });
  assert.deepEqual(sent.accepted.sort(), ['bob@company.local', 'carol@company.local'], sent.response);

  const toBob = await c.sink.waitFor((m) => m.raw.includes(subject), 60_000);
  assert.deepEqual(toBob.to, ['bob@company.local']);
  await waitFor('carol deferred by the filter', () => /to=<carol@company\.local>.*status=deferred/.test(c.postfix.log()), 60_000);
  assert.ok(!/to=<bob@company\.local>.*status=deferred/.test(c.postfix.log()), 'bob was never deferred');
  assert.equal((await c.filter.store.list({ search: subject })).length, 0);

  makeWritable(messagesDir);
  await c.postfix.flush();
  const [held] = await waitFor(
    'carol’s copy in the quarantine',
    async () => {
      const found = await c.filter.store.list({ search: subject });
      return found.length > 0 ? found : undefined;
    },
    60_000,
  );
  assert.deepEqual([held!.reason, held!.recipients], ['SPAM', ['carol@company.local']]);
  await waitFor('Postfix’s queue to empty', async () => (await c.postfix.queueSize()) === 0, 60_000);
  const copies = c.sink.messages.filter((m) => m.raw.includes(subject));
  assert.equal(copies.length, 1, 'bob got exactly one copy');
});
