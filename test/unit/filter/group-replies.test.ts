// Recipients of one message with different sender lists form groups (delivered, quarantined); each
// group is answered on its own, so a quarantine that fails for one group is a 4xx for that group
// only and the recipients already delivered keep their 250 (Postfix sends them nothing twice).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { SMTPServer } from 'smtp-server';
import { defaultConfig } from '../../../runtime/config/load.js';
import { filterMessage, type FilterDeps, type SpooledMessage } from '../../../runtime/filter/pipeline.js';
import { listen } from '../../../runtime/filter/listen.js';
import type { Reinjector } from '../../../runtime/mail/reinject.js';
import { QuarantineStore } from '../../../runtime/quarantine/store.js';
import type { ListMatch } from '../../../runtime/lists/sender-lists.js';
import { logger } from '../../../runtime/log.js';
import { makeReadOnly, makeWritable } from '../../support/read-only-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'group-replies-'));
const stores: QuarantineStore[] = [];
const servers: SMTPServer[] = [];
after(async () => {
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const store of stores) await store.close();
  makeWritable(dir);
  rmSync(dir, { recursive: true, force: true });
});

const RAW = 'From: Spammer <spammer@example.net>\r\nTo: team@company.local\r\nSubject: groups\r\nMessage-ID: <groups@example.net>\r\n\r\nHello.\r\n';
const blocked = (list: string): ListMatch => ({ kind: 'block', pattern: 'spammer@example.net', list, sender: 'spammer@example.net' });
// dave: blocked globally; carol: blocked on her own list (another group); bob: no entry, delivered.
const listsFor = async (recipient: string) => (recipient.startsWith('dave') ? blocked('global') : recipient.startsWith('carol') ? blocked('carol') : null);

/** Every check off: the message is clean, so only the sender lists split the recipients. */
function depsIn(name: string, onSend: () => void = () => undefined): FilterDeps & { sent: string[][] } {
  const config = defaultConfig();
  config.filter.checks = [];
  config.quarantine.dir = join(dir, name, 'quarantine');
  const store = QuarantineStore.open(config.quarantine.dir, 50);
  stores.push(store);
  const sent: string[][] = [];
  const reinjector: Reinjector = {
    async send(_from, to, message) {
      for await (const _chunk of message) {
        /* drained, as the next hop would */
      }
      sent.push(to);
      onSend();
      return to.map((recipient) => ({ recipient, code: 250, response: '250 2.0.0 queued' }));
    },
    close() {},
  };
  const spamTimeouts = { record: () => assert.fail('no spam check runs here'), close() {} };
  return { config, store, reinjector, log: logger('test'), senderLists: listsFor, spamTimeouts, sent };
}

/** Each try is a new message to the filter, with an id of its own, as when Postfix retries. */
function spooled(name: string, id: string, rcptTo: string[]): SpooledMessage {
  const path = join(dir, name, `${rcptTo.length}-${Date.now()}.eml`);
  writeFileSync(path, RAW);
  return {
    id,
    path,
    size: RAW.length,
    bytes: Buffer.from(RAW),
    receivedAt: new Date(),
    envelope: { mailFrom: 'spammer@example.net', rcptTo, clientAddress: '127.0.0.1', heloName: 'x' },
  };
}

test(
  'a quarantine made read-only mid-message: the groups before keep their answers, the failed group alone gets 4xx, and its retry quarantines it',
  { timeout: 30_000 },
  async () => {
    // The quarantine turns read-only while bob's copy is being delivered: dave's group is already held.
    const deps = depsIn('mid', () => makeReadOnly(join(dir, 'mid', 'quarantine', 'messages')));
    const replies = await filterMessage(spooled('mid', 'id-mid', ['dave@company.local', 'bob@company.local', 'carol@company.local']), deps);
    assert.match(String(replies[0]), /^2\.7\.0 Ok: id-mid quarantined \(SPAM\)/, 'dave: held before the folder turned read-only');
    assert.match(String(replies[1]), /^2\.0\.0 Ok: id-mid delivered/, 'bob: delivered, answered 250');
    const carol = replies[2];
    assert.ok(carol instanceof Error && 'responseCode' in carol, `carol gets an error reply, got ${String(carol)}`);
    assert.equal((carol as { responseCode: number }).responseCode, 451);
    assert.match(carol.message, /^4\.3\.0 id-mid-2 could not be quarantined \(.*(EPERM|EACCES)/);
    assert.deepEqual(deps.sent, [['bob@company.local']]);
    assert.deepEqual(
      (await deps.store.list({})).map((e) => e.recipients),
      [['dave@company.local']],
    );

    // Postfix retries only carol, who got the 4xx; bob is not sent a second copy.
    makeWritable(join(dir, 'mid', 'quarantine', 'messages'));
    const retry = await filterMessage(spooled('mid', 'id-retry', ['carol@company.local']), {
      ...deps,
      reinjector: { ...deps.reinjector, send: async () => assert.fail('nothing to deliver on the retry') },
    });
    assert.match(String(retry[0]), /^2\.7\.0 Ok: id-retry quarantined \(SPAM\)/);
    assert.deepEqual((await deps.store.list({})).map((e) => e.recipients).sort(), [['carol@company.local'], ['dave@company.local']]);
  },
);

test('over LMTP, each recipient gets its own answer: 250 for the delivered group, 451 for the one whose quarantine failed', { timeout: 30_000 }, async () => {
  const deps = depsIn('lmtp');
  makeReadOnly(join(dir, 'lmtp', 'quarantine', 'messages'));
  const server = await listen({
    host: '127.0.0.1',
    port: 0,
    hostname: 'test',
    spoolDir: join(dir, 'lmtp'),
    maxMessageBytes: 1 << 20,
    maxConnections: 2,
    log: deps.log,
    handle: (message) => filterMessage(message, deps),
  });
  servers.push(server);
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const client = nodemailer.createTransport({ host: '127.0.0.1', port, lmtp: true, ignoreTLS: true });
  try {
    const info = await client.sendMail({ envelope: { from: 'spammer@example.net', to: ['bob@company.local', 'carol@company.local'] }, raw: RAW });
    assert.deepEqual(info.accepted, ['bob@company.local']);
    assert.deepEqual(info.rejected, ['carol@company.local']);
    const [refused] = (info as unknown as { rejectedErrors: Array<{ responseCode: number; response: string }> }).rejectedErrors;
    assert.equal(refused?.responseCode, 451, refused?.response);
  } finally {
    client.close();
  }
  assert.deepEqual(deps.sent, [['bob@company.local']]);
});
