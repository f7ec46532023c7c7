// Spam-check timeouts counted per message, in a file that survives filter restarts (the spool is
// cleared at start). A message that keeps spamd busy is deferred a few times, then decided without
// a spam verdict, as amavisd-new does: never deferred for ever.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CheckResult } from '../checks/result.js';
import { spamCheckGivenUp, spamTimedOut } from '../checks/spam.js';
import type { Logger } from '../log.js';
import { decodedHeader, type MessageHead } from '../mail/message-head.js';

/** Postfix gives up on a message after 5 days (maximal_queue_lifetime); counts are kept a little longer. */
const KEEP_MS = 7 * 24 * 3600 * 1000;

export interface SpamTimeouts {
  /** Counts one more timeout for this message; returns how many there have been. */
  record(key: string): number;
  close(): void;
}

/** The same message on every Postfix retry: its Message-ID (or its header section) and its size. */
export function messageKey(head: MessageHead, size: number): string {
  const messageId = decodedHeader(head, 'Message-ID').trim();
  return messageId ? `${messageId} ${size}` : `head-sha256:${createHash('sha256').update(head.raw).digest('hex')} ${size}`;
}

export function openSpamTimeouts(path: string, log: Logger): SpamTimeouts {
  // Counted in memory too: a file that cannot be written must not turn into deferring for ever.
  const inMemory = new Map<string, number>();
  let db: Database.Database | null = null;
  try {
    // Beside the quarantine, whose folder a node with the shared database may not have made.
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE IF NOT EXISTS spam_timeouts (key TEXT PRIMARY KEY, tries INTEGER NOT NULL, last_at INTEGER NOT NULL)');
    db.prepare('DELETE FROM spam_timeouts WHERE last_at < ?').run(Date.now() - KEEP_MS);
  } catch (err) {
    log.warn('spam timeouts counted in memory only', { database: path, error: (err as Error).message });
    db?.close();
    db = null;
  }
  const upsert = db?.prepare<[{ key: string; now: number }]>(
    'INSERT INTO spam_timeouts (key, tries, last_at) VALUES (@key, 1, @now) ON CONFLICT(key) DO UPDATE SET tries = tries + 1, last_at = @now RETURNING tries',
  );
  return {
    record(key) {
      if (upsert) {
        try {
          return (upsert.get({ key, now: Date.now() }) as { tries: number }).tries;
        } catch (err) {
          log.warn('spam timeout not recorded on disk, counted in memory', { database: path, error: (err as Error).message });
        }
      }
      const tries = (inMemory.get(key) ?? 0) + 1;
      inMemory.set(key, tries);
      return tries;
    },
    close() {
      db?.close();
    },
  };
}

export interface SpamTimeoutOutcome {
  results: CheckResult[];
  /** Timeouts counted for this message so far; 0 when its spam check did not time out now. */
  tries: number;
  /** The spam check was given up: the message is decided without a spam verdict. */
  givenUp: boolean;
}

/** A timed-out spam check is counted; at `maxTries` it is replaced by a given-up one, else it defers. */
export function settleSpamTimeout(results: CheckResult[], key: string, timeouts: SpamTimeouts, maxTries: number): SpamTimeoutOutcome {
  const timedOut = results.find(spamTimedOut);
  if (!timedOut) return { results, tries: 0, givenUp: false };
  const tries = timeouts.record(key);
  if (tries >= maxTries) return { results: results.map((r) => (r === timedOut ? spamCheckGivenUp(tries) : r)), tries, givenUp: true };
  const counted = { ...timedOut, detail: `${timedOut.detail} (${tries} of ${maxTries} before it is decided without a spam verdict)` };
  return { results: results.map((r) => (r === timedOut ? counted : r)), tries, givenUp: false };
}
