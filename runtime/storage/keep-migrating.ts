// A node whose shared database cannot be reached at start still starts: its schema is brought up
// to date as soon as the database answers, and until then each query fails on its own (the
// filter's 4xx, the viewer's error page).
import type { Kysely } from 'kysely';
import { logger } from '../log.js';
import { migrateShared, type SharedTables } from './shared-schema.js';

const RETRY_MS = 10_000;

/** `whileDown` says in the log what the daemon does until the database answers. */
export function keepMigrating(
  db: Kysely<SharedTables>,
  whileDown = 'held mail is deferred (4xx) until it is; clean mail still flows',
  retryMs = RETRY_MS,
): { firstTry: Promise<void>; stop(): void } {
  const log = logger('storage');
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failures = 0;
  const attempt = async (): Promise<void> => {
    try {
      await migrateShared(db);
      if (failures > 0) log.info('shared database reached, schema up to date', { after_failures: failures });
    } catch (err) {
      failures += 1;
      // Said once, then every sixth try (a minute): the log should show an outage, not drown in it.
      if (failures % 6 === 1)
        log.error(`shared database not ready: ${whileDown}`, {
          error: (err as Error).message,
          retry_seconds: retryMs / 1000,
        });
      if (!stopped) timer = setTimeout(() => void attempt(), retryMs).unref();
    }
  };
  return {
    firstTry: attempt(),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
