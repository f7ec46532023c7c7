// What every quarantine store does, whichever database holds it: the same cases run against one
// appliance's SQLite index (test/unit/quarantine/store.test.ts) and the shared PostgreSQL
// (test/integration/cluster-quarantine.test.ts), so the two cannot drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QuarantineInput, QuarantineStore } from '../../runtime/quarantine/store.js';

/** Opens an empty store of the given maximum size; the contract closes it. */
export type OpenEmptyStore = (maxSizeMb: number) => Promise<QuarantineStore>;

let counter = 0;
export function heldInput(overrides: Partial<QuarantineInput> = {}): QuarantineInput {
  counter += 1;
  return {
    id: `id-${process.pid}-${counter}`,
    receivedAt: new Date(Date.UTC(2026, 10, 24, 12, 0, counter % 60, counter)),
    mailFrom: 'alice@company.com',
    recipients: ['Bob@Company.Local'],
    headerFrom: 'Alice <alice@company.com>',
    headerTo: 'Bob <bob@company.local>',
    subject: 'hello',
    reason: 'SPAM',
    detail: 'score=12',
    size: 100,
    ...overrides,
  };
}

function spoolFile(content: string | Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'contract-spool-')), 'spooled.eml');
  writeFileSync(path, content);
  return path;
}

export function quarantineContract(backend: string, openEmpty: OpenEmptyStore): void {
  const withStore = (name: string, maxSizeMb: number, body: (store: QuarantineStore) => Promise<void>): void =>
    void test(`${backend}: ${name}`, async () => {
      const store = await openEmpty(maxSizeMb);
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  withStore('messages are indexed by recipient, newest first, and read back byte for byte', 100, async (store) => {
    const body = `Subject: hello\r\n\r\n${randomBytes(1_500_000).toString('base64')}\r\n`;
    const spool = spoolFile(body);
    const first = await store.add(spool, heldInput({ subject: 'first', size: body.length }));
    await store.add(spoolFile('x'), heldInput({ subject: 'second', recipients: ['carol@company.local'], reason: 'VIRUS' }));
    assert.deepEqual(
      (await store.list({ addresses: ['bob@company.local'] })).map((e) => e.subject),
      ['first'],
    );
    assert.deepEqual(
      (await store.list()).map((e) => e.subject),
      ['second', 'first'],
    );
    assert.equal(await store.count({ reason: 'VIRUS' }), 1);
    assert.equal((await store.list({ addresses: [] })).length, 0, 'a user with no addresses sees nothing');
    const entry = (await store.get(first.id))!;
    assert.deepEqual(entry.recipients, ['bob@company.local']);
    assert.equal(await text(store.openMessage(entry)), body, 'streamed back whole (larger than one chunk)');
    const file = await store.localFile(entry);
    try {
      assert.equal(readFileSync(file.path, 'utf8'), body);
    } finally {
      await file.done();
    }
  });

  withStore('search looks in Subject, From and To only, ignores case, and takes LIKE wildcards literally', 100, async (store) => {
    const spool = spoolFile('x');
    await store.add(spool, heldInput({ subject: '100% off' }));
    await store.add(spool, heldInput({ subject: 'Other', headerFrom: 'Promo@Shop.example' }));
    assert.equal(await store.count({ search: '100%' }), 1);
    assert.equal(await store.count({ search: '%' }), 1);
    assert.equal(await store.count({ search: '_' }), 0);
    assert.equal(await store.count({ search: 'shop.EXAMPLE' }), 1);
    assert.equal(await store.count({ search: 'other' }), 1);
    assert.equal(await store.count({ search: 'body' }), 0);
  });

  withStore('sorting by score puts messages without one last, and paging follows the order', 100, async (store) => {
    const spool = spoolFile('x');
    await store.add(spool, heldInput({ subject: 'low', detail: 'score=5.5 required=5' }));
    await store.add(spool, heldInput({ subject: 'none', reason: 'VIRUS', detail: 'Eicar-Test-Signature' }));
    await store.add(spool, heldInput({ subject: 'high', detail: 'score=31.2 required=5; dmarc=fail' }));
    await store.add(spool, heldInput({ subject: 'negative', detail: 'score=-2 required=5' }));
    const order = async (descending: boolean) => (await store.list({ sort: { by: 'score', descending } })).map((e) => e.subject);
    assert.deepEqual(await order(true), ['high', 'low', 'negative', 'none']);
    assert.deepEqual(await order(false), ['negative', 'low', 'high', 'none']);
    assert.deepEqual(
      (await store.list({ sort: { by: 'subject', descending: false }, limit: 2, offset: 1 })).map((e) => e.subject),
      ['low', 'negative'],
    );
  });

  withStore('the oldest messages go when the quarantine passes its maximum size', 1, async (store) => {
    const spool = spoolFile('x');
    const a = await store.add(spool, heldInput({ size: 400_000 }));
    await store.add(spool, heldInput({ size: 400_000 }));
    await store.add(spool, heldInput({ size: 400_000 }));
    assert.equal(await store.get(a.id), undefined);
    assert.ok((await store.totalBytes()) <= 1024 * 1024);
    assert.equal(await store.count(), 2);
  });

  withStore('a message that cannot be read leaves no row behind', 100, async (store) => {
    await assert.rejects(store.add(join(tmpdir(), 'no-such-folder-here', 'missing.eml'), heldInput()));
    assert.equal(await store.count(), 0);
  });

  withStore('daily outcomes are counted for statistics', 100, async (store) => {
    const day = new Date(Date.UTC(2026, 10, 24));
    store.recordOutcome('CLEAN', day);
    store.recordOutcome('CLEAN', day);
    store.recordOutcome('VIRUS', day);
    await store.flushOutcomes();
    store.recordOutcome('CLEAN', day);
    assert.deepEqual(await store.dailyOutcomes('2026-11-01'), [
      { day: '2026-11-24', outcome: 'CLEAN', count: 3 },
      { day: '2026-11-24', outcome: 'VIRUS', count: 1 },
    ]);
  });

  withStore('release is kept per recipient; removing the last recipient removes the message', 100, async (store) => {
    const entry = await store.add(spoolFile('x'), heldInput({ recipients: ['alice@company.local', 'bob@company.local'] }));
    await store.markReleased(entry.id, ['Alice@company.local'], 'alice');
    assert.deepEqual(
      (await store.get(entry.id))?.releases.map((r) => [r.address, r.by]),
      [['alice@company.local', 'alice']],
    );
    assert.equal(await store.count({ addresses: ['alice@company.local'], unreleased: true }), 0);
    assert.equal(await store.count({ addresses: ['bob@company.local'], unreleased: true }), 1, 'still waiting for bob');
    assert.equal(await store.count({ unreleased: true }), 1, 'someone still waits for it');
    await store.markReleased(entry.id, ['bob@company.local'], 'vadmin');
    assert.equal(await store.count({ unreleased: true }), 0);
    await store.removeRecipients(entry.id, ['alice@company.local']);
    assert.deepEqual((await store.get(entry.id))?.recipients, ['bob@company.local']);
    await store.removeRecipients(entry.id, ['bob@company.local']);
    assert.equal(await store.get(entry.id), undefined);
    assert.equal(await store.deleteMatching({}), 0);
  });
}
