import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from '../../../runtime/log.js';
import { greylist, type GreylistSettings } from '../../../runtime/policy/greylist.js';
import { GreylistState } from '../../../runtime/policy/greylist-state.js';
import { GreylistCounts, localCounts } from '../../../runtime/policy/greylist-counts.js';
import { doorCountsIn, openLocalDoorDatabase } from '../../../runtime/door-stats/door-counts.js';
import { QuarantineStore } from '../../../runtime/quarantine/store.js';

const settings: GreylistSettings = { delaySeconds: 300, autoAllowAfter: 5, inside: () => false, allowListed: async () => false, spfPasses: async () => false };
const rcpt = (recipient: string) => ({
  request: 'smtpd_access_policy',
  protocol_state: 'RCPT',
  client_address: '198.51.100.7',
  sender: 'a@example.net',
  recipient,
});
const T0 = Date.UTC(2026, 11, 2, 10);

test('the policy service counts its 450s as greylisted and each triplet’s first retry after the delay as passed, per day', { timeout: 10_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'greylist-counts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const quarantineDir = join(dir, 'quarantine');
  mkdirSync(quarantineDir);
  const state = GreylistState.open(join(dir, 'greylist.sqlite'));
  const counts = new GreylistCounts(
    localCounts(() => doorCountsIn(openLocalDoorDatabase(quarantineDir))),
    logger('test'),
  );
  t.after(() => state.close());

  const ask = async (recipient: string, at: number) => counts.count(await greylist(rcpt(recipient), state, settings, at), at);
  await ask('bob@company.com', T0);
  await ask('bob@company.com', T0 + 60_000);
  await ask('carol@company.com', T0);
  await ask('bob@company.com', T0 + 301_000);
  await ask('bob@company.com', T0 + 400_000);
  await counts.close();

  const store = QuarantineStore.open(quarantineDir, 10);
  t.after(() => store.close());
  assert.deepEqual(
    await store.dailyDoor('2026-12-01'),
    [
      { day: '2026-12-02', kind: 'greylist-passed', count: 1 },
      { day: '2026-12-02', kind: 'greylisted', count: 3 },
    ].sort((a, b) => a.kind.localeCompare(b.kind)),
  );
});

test('counts that cannot be written yet are kept for the next write, never an answer held', { timeout: 10_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'greylist-counts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const quarantineDir = join(dir, 'not-yet');
  const counts = new GreylistCounts(
    localCounts(() => doorCountsIn(openLocalDoorDatabase(quarantineDir))),
    logger('test'),
    60_000,
  );
  counts.count({ action: '450 4.7.1 Greylisted: try again', why: 'new triplet' }, T0);
  await counts.flush();
  mkdirSync(quarantineDir);
  counts.count({ action: '450 4.7.1 Greylisted: try again', why: 'new triplet' }, T0);
  await counts.close();
  const store = QuarantineStore.open(quarantineDir, 10);
  t.after(() => store.close());
  assert.deepEqual(await store.dailyDoor('2026-12-01'), [{ day: '2026-12-02', kind: 'greylisted', count: 2 }]);
});
