// The greylist's memory with a deadline: a database that fails or does not answer within a few
// seconds puts greylisting aside (each answer then throws StateDown at once, and the decision lets
// the mail on) until a try after `retryMs` finds it answering again. The outage is logged when it
// starts and when it ends, not once per recipient.
import type { Logger } from '../log.js';
import type { Triplet, TripletMemory, TripletState } from './greylist-state.js';

export class StateDown extends Error {}

export interface OutageTimes {
  /** How long one answer may take before the database counts as down. */
  answerWithinMs: number;
  /** How long greylisting stays aside before the database is tried again. */
  retryMs: number;
}

/**
 * A few seconds per recipient at most: Postfix waits for us up to smtpd_policy_service_timeout
 * (100 s), and the sending server for the RCPT reply, but every second here is a second an smtpd
 * process is held.
 */
export const OUTAGE_TIMES: OutageTimes = { answerWithinMs: 3000, retryMs: 10_000 };

export function withOutages(memory: TripletMemory, log: Logger, times: OutageTimes = OUTAGE_TIMES, clock: () => number = Date.now): TripletMemory {
  let downUntil = 0;
  let downSince: number | undefined;
  let skipped = 0;

  const ask = async <T>(question: () => Promise<T>): Promise<T> => {
    if (clock() < downUntil) {
      skipped += 1;
      throw new StateDown('its database is not answering');
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${times.answerWithinMs} ms`)), times.answerWithinMs);
      });
      const answer = await Promise.race([question(), deadline]);
      if (downSince !== undefined) {
        log.info('greylisting database answering again: greylisting resumed', {
          down_seconds: Math.round((clock() - downSince) / 1000),
          recipients_let_on: skipped,
        });
        downSince = undefined;
        skipped = 0;
      }
      return answer;
    } catch (err) {
      const error = (err as Error).message;
      if (downSince === undefined) {
        downSince = clock();
        log.error('greylisting database not answering: mail is let on without greylisting (DUNNO) until it answers', {
          error,
          retry_seconds: times.retryMs / 1000,
        });
      }
      downUntil = clock() + times.retryMs;
      skipped += 1;
      throw new StateDown(`its database is not answering (${error})`);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    clientAllowed: (network: string, autoAllowAfter: number) => ask(() => memory.clientAllowed(network, autoAllowAfter)),
    attempt: (triplet: Triplet, delaySeconds: number, nowMs: number) => ask<TripletState>(() => memory.attempt(triplet, delaySeconds, nowMs)),
  };
}
