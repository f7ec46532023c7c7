// Greylisting with its memory down (the shared database unreachable or hanging): the mail is let
// on (DUNNO) with the reason, quickly, the database is left alone until the retry time, the
// outage is logged once when it starts and once when it ends; and a state file from before the
// numbered migrations keeps its triplets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../../runtime/log.js';
import { greylist, type GreylistSettings } from '../../../runtime/policy/greylist.js';
import { GreylistState, type TripletMemory } from '../../../runtime/policy/greylist-state.js';
import { withOutages } from '../../../runtime/policy/state-outage.js';

const settings: GreylistSettings = { delaySeconds: 300, autoAllowAfter: 5, inside: () => false, allowListed: async () => false, spfPasses: async () => false };
const rcpt = { request: 'smtpd_access_policy', protocol_state: 'RCPT', client_address: '198.51.100.7', sender: 'a@example.net', recipient: 'bob@company.com' };
const T0 = Date.UTC(2026, 11, 2, 10);

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A memory whose database is down (throws), hangs, or answers, as the test says. */
function switchableMemory(): TripletMemory & { mode: 'down' | 'hang' | 'up'; asked: number } {
  const memory = {
    mode: 'down' as 'down' | 'hang' | 'up',
    asked: 0,
    async clientAllowed() {
      memory.asked += 1;
      if (memory.mode === 'down') throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      if (memory.mode === 'hang') await new Promise(() => undefined);
      return false;
    },
    async attempt() {
      return { kind: 'new' as const };
    },
  };
  return memory;
}

test('a database that refuses: DUNNO with the reason, the database left alone until the retry time, one line when it starts and one when it ends', async () => {
  const log = recordingLog();
  const backend = switchableMemory();
  let now = T0;
  const memory = withOutages(backend, log, { answerWithinMs: 200, retryMs: 10_000 }, () => now);

  const first = await greylist(rcpt, memory, settings, now);
  assert.equal(first.action, 'DUNNO');
  assert.match(first.why, /^greylisting skipped: its database is not answering \(connect ECONNREFUSED/);
  now += 5_000;
  assert.equal((await greylist(rcpt, memory, settings, now)).action, 'DUNNO');
  assert.equal(backend.asked, 1, 'within the retry time the database is not asked');
  now += 6_000;
  backend.mode = 'up';
  assert.match((await greylist(rcpt, memory, settings, now)).action, /^450 4\.7\.1 /, 'greylisting again once it answers');
  assert.deepEqual(log.lines, [
    'error greylisting database not answering: mail is let on without greylisting (DUNNO) until it answers',
    'info greylisting database answering again: greylisting resumed',
  ]);
});

test('a database that hangs costs one recipient the deadline, not more', { timeout: 10_000 }, async () => {
  const log = recordingLog();
  const backend = switchableMemory();
  backend.mode = 'hang';
  const memory = withOutages(backend, log, { answerWithinMs: 300, retryMs: 60_000 });
  const started = Date.now();
  const answer = await greylist(rcpt, memory, settings);
  assert.equal(answer.action, 'DUNNO');
  assert.match(answer.why, /no answer within 300 ms/);
  assert.equal((await greylist(rcpt, memory, settings)).action, 'DUNNO');
  assert.ok(Date.now() - started < 5_000);
  assert.equal(backend.asked, 1);
});

test('a state file from before the numbered migrations keeps its triplets: a retry that was waiting passes after the upgrade', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'greylist-old-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'greylist.sqlite');
  const old = new Database(path);
  old.exec(`
    CREATE TABLE triplets (network TEXT NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
      first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, passed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (network, sender, recipient));
    CREATE INDEX triplets_last_seen ON triplets(last_seen);
    CREATE TABLE clients (network TEXT PRIMARY KEY, passes INTEGER NOT NULL, last_seen INTEGER NOT NULL);
  `);
  old.prepare('INSERT INTO triplets VALUES (?, ?, ?, ?, ?, 0)').run('198.51.100.0/24', 'a@example.net', 'bob@company.com', T0, T0);
  old.prepare('INSERT INTO clients VALUES (?, ?, ?)').run('203.0.113.0/24', 5, T0);
  old.close();

  const state = GreylistState.open(path);
  t.after(() => state.close());
  assert.deepEqual(await greylist(rcpt, state, settings, T0 + 301_000), { action: 'DUNNO', why: 'retried after the delay' });
  assert.equal(await state.clientAllowed('203.0.113.0/24', 5), true);
  const reopened = new Database(path, { readonly: true });
  t.after(() => reopened.close());
  assert.equal(reopened.pragma('user_version', { simple: true }), 2);
});
