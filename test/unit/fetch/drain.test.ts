// drain() with a scripted mailbox and Postfix: which failures count against a message, when it is
// set aside, and that a lost connection is reconnected past. Real SeenState, in a temp folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drain, type DrainDeps } from '../../../runtime/fetch/drain.js';
import { ConnectionLost, type MailboxSession } from '../../../runtime/fetch/mailbox.js';
import type { InjectResult } from '../../../runtime/fetch/inject.js';
import { SeenState } from '../../../runtime/fetch/seen-state.js';
import { listSetAside, seenStatePath } from '../../../runtime/fetch/set-aside.js';
import { logger } from '../../../runtime/log.js';
import type { FetchAccount } from '../../../runtime/fetch/accounts.js';

/** What happens to each message: its body decides Postfix's answer; `broken` ones fail to download. */
interface Script {
  bodies: Record<string, string>;
  broken?: Set<string>;
  dropOn?: Set<string>;
}

const answers: Record<string, InjectResult> = {
  ok: { outcome: 'accepted', reply: '250 2.0.0 Ok' },
  big: { outcome: 'refused', reply: '552 5.3.4 Error: message file too big' },
  defer: { outcome: 'deferred', reply: '451 4.3.0 try later' },
};

function setup(script: Script) {
  const dir = mkdtempSync(join(tmpdir(), 'drain-test-'));
  const state = SeenState.open(seenStatePath(dir));
  const onServer = new Map(Object.entries(script.bodies));
  const injected: string[] = [];
  let sessions = 0;
  const open = async (): Promise<MailboxSession> => {
    sessions += 1;
    let usable = true;
    const pending: string[] = [];
    return {
      messages: [...onServer.keys()].map((uid) => ({ uid })),
      get usable() {
        return usable;
      },
      async download(message, path) {
        if (script.dropOn?.has(message.uid)) {
          script.dropOn.delete(message.uid);
          usable = false;
          throw new ConnectionLost(`connection lost while fetching ${message.uid}`);
        }
        if (script.broken?.has(message.uid)) throw new Error('-ERR cannot read message');
        writeFileSync(path, onServer.get(message.uid)!, { mode: 0o600 });
      },
      async remove(message) {
        pending.push(message.uid);
      },
      async close() {
        if (!usable) return 0;
        for (const uid of pending) onServer.delete(uid);
        return pending.length;
      },
    };
  };
  const deps: DrainDeps = {
    state,
    injector: {
      async inject(path) {
        const body = readFileSync(path, 'utf8');
        injected.push(body);
        return answers[body.split(':')[0]!]!;
      },
      close() {},
    },
    refused: { keep: async () => 'q1' },
    transitDir: dir,
    log: logger('test'),
    stopping: () => false,
    setAsideAfter: 3,
  };
  const account: FetchAccount = { user: 'u', password: 'p', deliverTo: 'u@company.local', keep: false, folder: 'INBOX' };
  return {
    dir,
    state,
    onServer,
    injected,
    deps,
    sessions: () => sessions,
    poll: () => drain('acct', account, open, deps),
    async done() {
      await state.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('a message the server will not send is set aside after 3 polls; the others are fetched in the first', { timeout: 10_000 }, async () => {
  const box = setup({ bodies: { a: 'ok:a', b: 'ok:b', c: 'ok:c' }, broken: new Set(['b']) });
  try {
    const first = await box.poll();
    assert.deepEqual([first.fetched, first.failed, first.deleted, first.setAside], [2, 1, 2, 0]);
    assert.deepEqual([...box.onServer.keys()], ['b']);
    await box.poll();
    const third = await box.poll();
    assert.equal(third.setAside, 1);
    const [setAside] = listSetAside(box.dir);
    assert.equal(setAside?.uid, 'b');
    assert.equal(setAside?.streak, 3);
    assert.match(setAside?.lastError ?? '', /the server did not send it: -ERR cannot read message/);
    const fourth = await box.poll();
    assert.deepEqual([fourth.failed, fourth.skipped], [0, 1], 'not tried again');
    assert.deepEqual([...box.onServer.keys()], ['b'], 'a set-aside message stays on the server');
  } finally {
    await box.done();
  }
});

test('a 5xx is a final outcome: quarantined, deleted, never retried', { timeout: 10_000 }, async () => {
  const box = setup({ bodies: { a: 'big:a', b: 'ok:b' } });
  try {
    const first = await box.poll();
    assert.deepEqual([first.refused, first.fetched, first.deleted], [1, 1, 2]);
    assert.equal(box.onServer.size, 0);
  } finally {
    await box.done();
  }
});

test('a Postfix 4xx counts against a message only when Postfix took others in the same poll', { timeout: 10_000 }, async () => {
  const alone = setup({ bodies: { a: 'defer:a' } });
  try {
    for (let i = 0; i < 4; i++) assert.equal((await alone.poll()).failed, 1);
    assert.deepEqual(listSetAside(alone.dir), [], 'Postfix unwell: nothing set aside');
  } finally {
    await alone.done();
  }
  const amongOthers = setup({ bodies: { b: 'defer:b' } });
  try {
    for (let i = 0; i < 3; i++) {
      amongOthers.onServer.set(`new${i}`, `ok:new${i}`);
      await amongOthers.poll();
    }
    assert.deepEqual(
      listSetAside(amongOthers.dir).map((m) => m.uid),
      ['b'],
    );
  } finally {
    await amongOthers.done();
  }
});

test('Postfix deferring two in a row with none taken ends the poll early instead of downloading the whole mailbox', { timeout: 10_000 }, async () => {
  const box = setup({ bodies: { a: 'defer:a', b: 'defer:b', c: 'defer:c', d: 'defer:d' } });
  try {
    const summary = await box.poll();
    assert.equal(box.injected.length, 2);
    assert.match(summary.stoppedEarly ?? '', /local Postfix defers every message/);
  } finally {
    await box.done();
  }
});

test('a dropped connection is reconnected past: the messages after it are fetched, the deletes of the lost session redone', { timeout: 10_000 }, async () => {
  const box = setup({ bodies: { a: 'ok:a', b: 'ok:b', c: 'ok:c' }, dropOn: new Set(['b']) });
  try {
    const summary = await box.poll();
    assert.equal(box.sessions(), 2);
    assert.deepEqual([summary.fetched, summary.failed, summary.deleted], [2, 1, 2]);
    assert.deepEqual([...box.onServer.keys()], ['b'], 'a: its DELE rolled back with the lost session and was sent again');
    const next = await box.poll();
    assert.equal(next.fetched, 1);
    assert.equal(box.onServer.size, 0);
  } finally {
    await box.done();
  }
});
