import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuarantineStore } from '../../../runtime/quarantine/store.js';
import { heldInput as input, quarantineContract } from '../../support/quarantine-contract.js';

function setup(maxSizeMb = 1) {
  const dir = mkdtempSync(join(tmpdir(), 'store-'));
  const spool = join(dir, 'spooled.eml');
  return { dir, spool, store: QuarantineStore.open(join(dir, 'q'), maxSizeMb) };
}

quarantineContract('SQLite', (maxSizeMb) => Promise.resolve(QuarantineStore.open(join(mkdtempSync(join(tmpdir(), 'store-')), 'q'), maxSizeMb)));

test('a message is kept as a file of its own, under the day it came in', async () => {
  const { spool, store } = setup();
  writeFileSync(spool, 'Subject: hello\r\n\r\nbody\r\n');
  const first = await store.add(spool, input({ id: 'id-1', subject: 'first' }));
  assert.match(first.path, /^messages\/2026-11-24\/id-\d+\.eml$/);
  assert.equal(readFileSync(store.filePath(first), 'utf8'), 'Subject: hello\r\n\r\nbody\r\n');
  await store.close();
});

test('the oldest messages go when the quarantine passes its maximum size', async () => {
  const { spool, store } = setup(1);
  writeFileSync(spool, 'x');
  const a = await store.add(spool, input({ size: 400_000 }));
  await store.add(spool, input({ size: 400_000 }));
  await store.add(spool, input({ size: 400_000 }));
  assert.equal(await store.get(a.id), undefined);
  assert.ok(!existsSync(store.filePath(a)));
  assert.ok((await store.totalBytes()) <= 1024 * 1024);
  assert.equal(await store.count(), 2);
  await store.close();
});

test('the size is summed once while this process’s own additions keep it under the maximum, and again when they may not', async (t) => {
  const { spool, store } = setup(1);
  writeFileSync(spool, 'x');
  const sums = t.mock.method(store, 'totalBytes');
  for (let i = 0; i < 5; i += 1) await store.add(spool, input({ size: 100_000 }));
  assert.equal(sums.mock.callCount(), 1, 'one scan of the index for five small messages');
  await store.add(spool, input({ size: 600_000 }));
  assert.ok(sums.mock.callCount() >= 2, 'counted over the maximum: summed again and trimmed');
  assert.ok((await store.totalBytes()) <= 1024 * 1024);
  await store.close();
});

test('a quarantine made before per-recipient release opens, gains the columns, and keeps its messages', async () => {
  const { dir } = setup();
  const quarantineDir = join(dir, 'old');
  mkdirSync(quarantineDir, { recursive: true });
  const old = new Database(join(quarantineDir, 'index.sqlite'));
  old.exec(`CREATE TABLE messages (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, mail_from TEXT NOT NULL, header_from TEXT NOT NULL,
      header_to TEXT NOT NULL, subject TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, size INTEGER NOT NULL, path TEXT NOT NULL,
      released_at INTEGER, released_by TEXT);
    CREATE TABLE recipients (message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE, address TEXT NOT NULL, PRIMARY KEY (message_id, address));
    INSERT INTO messages VALUES ('old-1', 1, 'x@example.net', 'x@example.net', 'a', 'old one', 'SPAM', 'd', 10, 'messages/old-1.eml', 5, 'alice');
    INSERT INTO recipients VALUES ('old-1', 'alice@company.local'), ('old-1', 'bob@company.local');`);
  old.close();
  const store = QuarantineStore.open(quarantineDir, 1);
  const entry = await store.get('old-1');
  assert.equal(entry?.subject, 'old one');
  assert.deepEqual(entry?.releases, [], 'the old mark never said for whom: nobody’s copy is hidden');
  await store.markReleased('old-1', ['bob@company.local'], 'bob');
  assert.deepEqual(
    (await store.get('old-1'))?.releases.map((r) => r.address),
    ['bob@company.local'],
  );
  await store.close();
  await QuarantineStore.open(quarantineDir, 1).close(); // opened again: nothing left to add
});
