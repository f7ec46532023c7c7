// One poll of one mailbox, message by message. Each message gets its own outcome, and a bad one
// never holds up the messages after it:
//   accepted by Postfix  -> recorded as seen, then deleted on the server (keep off)
//   refused (5xx)        -> kept in the quarantine as REFUSED, recorded, deleted (keep off); never retried
//   any other failure    -> left on the server for the next poll; set aside after N polls in a row
// The poll stops early only when no other message could succeed either: Postfix unreachable, the
// local disk failing, the mail server gone for good, or the daemon stopping (after the message in flight).
import { rm } from 'node:fs/promises';
import type { Logger } from '../log.js';
import type { FetchAccount } from './accounts.js';
import type { Injector } from './inject.js';
import { ConnectionLost, type MailboxSession, type OpenMailbox, type RemoteMessage } from './mailbox.js';
import type { RefusedKeeper } from './refused.js';
import type { SeenState } from './seen-state.js';
import { transitPath } from './transit.js';

export interface DrainDeps {
  state: SeenState;
  injector: Injector;
  refused: RefusedKeeper;
  transitDir: string;
  log: Logger;
  /** True once the daemon is stopping: the message in flight is finished, no other one started. */
  stopping(): boolean;
  /**
   * Several appliances: false once this node lost its lease on the mailbox (another node polls it
   * now). No message is handed to Postfix after that; one Postfix already took is still recorded.
   */
  stillHeld?(): boolean;
  /** Polls in a row a message may fail (other than by a 5xx) before it is set aside. */
  setAsideAfter: number;
}

export interface PollSummary {
  account: string;
  /** Accepted by Postfix. */
  fetched: number;
  /** Refused by Postfix (5xx) and quarantined as REFUSED. */
  refused: number;
  deleted: number;
  alreadySeen: number;
  /** Left on the server for the next poll. */
  failed: number;
  /** Set aside in this poll; `skipped`: set aside before, not tried. */
  setAside: number;
  skipped: number;
  /** Why the poll ended before the last message, when something outside the messages failed. */
  stoppedEarly?: string;
  stopRequested: boolean;
  /** The poll ended because this node lost its lease on the mailbox; the new holder goes on. */
  leaseLost?: boolean;
}

/**
 * always: the message is to blame (the server would not send it, the connection died on it).
 * unlessPostfixIdle: a Postfix 4xx counts against the message only if Postfix took another one in
 * the same poll; otherwise Postfix itself is unwell (full disk) and nothing should be set aside.
 */
type Blame = 'always' | 'unlessPostfixIdle';

type MessageOutcome =
  | { kind: 'delivered' }
  | { kind: 'refused'; reply: string; quarantineId: string }
  | { kind: 'failed'; reason: string; blame: Blame }
  | { kind: 'lost'; reason: string }
  | { kind: 'stop'; reason: string }
  | { kind: 'lease lost' };

const MAX_RECONNECTS = 3;
const LOCAL_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE', 'EIO', 'ENOENT', 'EEXIST']);

async function fetchOne(key: string, account: FetchAccount, session: MailboxSession, message: RemoteMessage, deps: DrainDeps): Promise<MessageOutcome> {
  const path = transitPath(deps.transitDir);
  try {
    try {
      await session.download(message, path);
    } catch (err) {
      const error = err as Error & { code?: string };
      if (err instanceof ConnectionLost) return { kind: 'lost', reason: error.message };
      if (error.code && LOCAL_ERRORS.has(error.code)) return { kind: 'stop', reason: `cannot write the message to ${deps.transitDir}: ${error.message}` };
      return { kind: 'failed', reason: `the server did not send it: ${error.message}`, blame: 'always' };
    }
    // The last moment to leave the message to the node that took the mailbox over: after this,
    // Postfix may have it.
    if (deps.stillHeld && !deps.stillHeld()) return { kind: 'lease lost' };
    const result = await deps.injector.inject(path, account.deliverTo);
    switch (result.outcome) {
      case 'accepted':
        // The very next step after Postfix's 250: the narrower this gap, the fewer duplicates a crash makes.
        await deps.state.record(key, message.uid);
        return { kind: 'delivered' };
      case 'refused': {
        let quarantineId: string;
        try {
          quarantineId = await deps.refused.keep(path, { deliverTo: account.deliverTo, reply: result.reply });
        } catch (err) {
          return { kind: 'stop', reason: `local Postfix refused a message (${result.reply}) and the quarantine could not keep it: ${(err as Error).message}` };
        }
        await deps.state.record(key, message.uid);
        return { kind: 'refused', reply: result.reply, quarantineId };
      }
      case 'deferred':
        return { kind: 'failed', reason: `local Postfix deferred it: ${result.reply}`, blame: 'unlessPostfixIdle' };
      case 'unreachable':
        return { kind: 'stop', reason: `local Postfix did not take the message (${result.reply}); nothing was deleted, it is fetched again next poll` };
    }
  } finally {
    await rm(path, { force: true });
  }
}

/** Deletes a message that has its outcome; a failure here only delays the delete to the next poll. */
async function removeFromServer(key: string, session: MailboxSession, message: RemoteMessage, log: Logger): Promise<'removed' | 'lost' | 'failed'> {
  try {
    await session.remove(message);
    return 'removed';
  } catch (err) {
    if (err instanceof ConnectionLost) return 'lost';
    log.warn('delete failed, retried next poll', { account: key, uid: message.uid, error: (err as Error).message });
    return 'failed';
  }
}

export async function drain(key: string, account: FetchAccount, open: OpenMailbox, deps: DrainDeps): Promise<PollSummary> {
  const { state, log } = deps;
  const summary: PollSummary = { account: key, fetched: 0, refused: 0, deleted: 0, alreadySeen: 0, failed: 0, setAside: 0, skipped: 0, stopRequested: false };
  const failedNow = new Map<string, { reason: string; blame: Blame }>();
  // Messages looked at in this poll: a list taken again after a reconnect must not count them twice.
  const countedNow = new Set<string>();
  let session = await open();
  let fresh = 0;
  try {
    await state.prune(key, new Set(session.messages.map((m) => m.uid)));
    for (const m of session.messages) if ((await state.state(key, m.uid)) === 'new') fresh += 1;
  } catch (err) {
    await session.close().catch(() => 0);
    throw err;
  }
  if (fresh > 0) log.info('new messages', { account: key, count: fresh, on_server: session.messages.length });
  let reconnects = 0;
  let deferredInARow = 0;

  const reconnect = async (why: string): Promise<boolean> => {
    summary.deleted += await session.close().catch(() => 0);
    if (++reconnects > MAX_RECONNECTS) {
      summary.stoppedEarly = `${why}; gave up after ${MAX_RECONNECTS} reconnects`;
      return false;
    }
    try {
      session = await open();
      return true;
    } catch (err) {
      summary.stoppedEarly = `${why}; reconnecting failed: ${(err as Error).message}`;
      return false;
    }
  };

  try {
    pass: for (;;) {
      for (const message of session.messages) {
        if (deps.stopping()) {
          summary.stopRequested = true;
          break pass;
        }
        if (deps.stillHeld && !deps.stillHeld()) {
          summary.leaseLost = true;
          break pass;
        }
        if (failedNow.has(message.uid)) continue;
        const first = !countedNow.has(message.uid);
        countedNow.add(message.uid);
        const known = await state.state(key, message.uid);
        if (known === 'set-aside') {
          if (first) summary.skipped += 1;
          continue;
        }
        if (known === 'seen') {
          // Recorded in an earlier poll (or before a reconnect) whose delete did not take effect.
          if (first) summary.alreadySeen += 1;
          if (!account.keep && (await removeFromServer(key, session, message, log)) === 'lost') {
            if (await reconnect('connection lost while deleting')) continue pass;
            break pass;
          }
          continue;
        }
        const outcome = await fetchOne(key, account, session, message, deps);
        if (outcome.kind === 'lease lost') {
          summary.leaseLost = true;
          break pass;
        }
        if (outcome.kind === 'stop') {
          summary.stoppedEarly = outcome.reason;
          break pass;
        }
        if (outcome.kind === 'failed' || outcome.kind === 'lost') {
          failedNow.set(message.uid, { reason: outcome.reason, blame: outcome.kind === 'lost' ? 'always' : outcome.blame });
          summary.failed += 1;
          log.warn('message left on the server, tried again next poll', { account: key, uid: message.uid, error: outcome.reason });
          if (outcome.kind === 'lost') {
            if (await reconnect(outcome.reason)) continue pass;
            break pass;
          }
          deferredInARow = outcome.blame === 'unlessPostfixIdle' ? deferredInARow + 1 : 0;
          if (deferredInARow >= 2 && summary.fetched === 0) {
            summary.stoppedEarly = `local Postfix defers every message (${outcome.reason}); the rest waits for the next poll`;
            break pass;
          }
          continue;
        }
        deferredInARow = 0;
        if (outcome.kind === 'delivered') summary.fetched += 1;
        else {
          summary.refused += 1;
          log.warn('refused by local Postfix: kept in the quarantine as REFUSED', {
            account: key,
            uid: message.uid,
            quarantine_id: outcome.quarantineId,
            reply: outcome.reply,
          });
        }
        if (!account.keep && (await removeFromServer(key, session, message, log)) === 'lost') {
          if (await reconnect('connection lost while deleting')) continue pass;
          break pass;
        }
        if (summary.fetched > 0 && summary.fetched % 50 === 0) log.info('progress', { account: key, fetched: summary.fetched, of: fresh });
      }
      break;
    }
  } finally {
    // QUIT even after a failure: POP3 commits the deletes of everything that reached Postfix only then.
    summary.deleted += await session.close().catch(() => 0);
    const postfixTookSome = summary.fetched + summary.refused > 0;
    for (const [uid, failure] of failedNow) {
      if (failure.blame === 'unlessPostfixIdle' && !postfixTookSome) continue;
      const row = await state.recordFailure(key, uid, failure.reason, deps.setAsideAfter);
      if (row.setAsideAt !== null && row.streak === deps.setAsideAfter) {
        summary.setAside += 1;
        log.error('message set aside: it stays on the server and is not tried again', { account: key, uid, polls_failed: row.streak, error: failure.reason });
      }
    }
  }
  return summary;
}
