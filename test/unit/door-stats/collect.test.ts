import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectDoorStats } from '../../../runtime/door-stats/collect.js';
import { QuarantineStore } from '../../../runtime/quarantine/store.js';

const pregreet = (n: number) => `2026-12-02T10:00:0${n % 10}+00:00 mx postfix/postscreen[1]: PREGREET 24 after 0 from [192.0.2.${n}]:25: EHLO x\\r\\n\n`;
const dnsbl = (n: number) => `2026-12-02T10:00:0${n % 10}+00:00 mx postfix/postscreen[1]: DNSBL rank 3 for [192.0.2.${n}]:25\n`;
const other = '2026-12-02T10:00:00+00:00 mx postfix/qmgr[1]: 3E445212106: removed\n';

async function counts(quarantineDir: string): Promise<Record<string, number>> {
  const store = QuarantineStore.open(quarantineDir, 10);
  try {
    return Object.fromEntries((await store.dailyDoor('2026-12-01')).map((r) => [r.kind, r.count]));
  } finally {
    await store.close();
  }
}

test('each pass counts only what the log gained, a half-written last line waits, and a rotation loses nothing', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'door-stats-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const quarantineDir = join(dir, 'quarantine');
  mkdirSync(quarantineDir);
  const log = join(dir, 'mail.log');
  const now = Date.UTC(2026, 11, 3);

  writeFileSync(log, pregreet(1) + other + dnsbl(2));
  assert.deepEqual(await collectDoorStats({ quarantineDir }, log, now), { lines: 3, counted: 2 });
  assert.deepEqual(await counts(quarantineDir), { dnsbl: 1, pregreet: 1 });

  assert.deepEqual(await collectDoorStats({ quarantineDir }, log, now), { lines: 0, counted: 0 }, 'nothing new, nothing counted');

  const half = pregreet(3);
  appendFileSync(log, half.slice(0, 30));
  await collectDoorStats({ quarantineDir }, log, now);
  assert.deepEqual(await counts(quarantineDir), { dnsbl: 1, pregreet: 1 }, 'the unfinished line waits');
  appendFileSync(log, half.slice(30));
  await collectDoorStats({ quarantineDir }, log, now);
  assert.deepEqual(await counts(quarantineDir), { dnsbl: 1, pregreet: 2 });

  // logrotate: a line still lands in the old file after the last pass, then the new file starts.
  appendFileSync(log, dnsbl(4));
  renameSync(log, `${log}.1`);
  writeFileSync(log, pregreet(5));
  await collectDoorStats({ quarantineDir }, log, now);
  assert.deepEqual(await counts(quarantineDir), { dnsbl: 2, pregreet: 3 }, 'the old file’s rest and the new file, each once');

  // copytruncate: the same file, shorter than where the last pass stopped.
  truncateSync(log, 0);
  appendFileSync(log, dnsbl(6));
  await collectDoorStats({ quarantineDir }, log, now);
  assert.deepEqual(await counts(quarantineDir), { dnsbl: 3, pregreet: 3 });
});

test('a missing log is no error and counts nothing', { timeout: 10_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'door-stats-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(await collectDoorStats({ quarantineDir: dir }, join(dir, 'mail.log')), { lines: 0, counted: 0 });
});
