// The quarantine as the config says: this appliance's own (SQLite and files), or the one several
// appliances share in PostgreSQL, whose schema this node brings up to date (once, under a lock).
// A shared database that cannot be reached at start does not stop the daemon: clean mail still
// flows, keeping a message fails (the filter answers 4xx, the sender retries), and the schema is
// brought up to date as soon as the database answers.
import type { AppConfig } from '../config/schema.js';
import { logger } from '../log.js';
import { QuarantineStore } from '../quarantine/store.js';
import { migrateShared, openSharedDatabase, type SharedTables } from './shared-schema.js';
import type { Kysely } from 'kysely';

const RETRY_MS = 10_000;

export async function openQuarantine(config: AppConfig, applicationName = 'mailfilter'): Promise<QuarantineStore> {
  const { storage, quarantine } = config;
  if (storage.backend === 'sqlite') return QuarantineStore.open(quarantine.dir, quarantine.maxSizeMb);
  const db = openSharedDatabase(storage, applicationName);
  const migration = keepMigrating(db);
  await migration.firstTry;
  return QuarantineStore.shared(db, quarantine.maxSizeMb, async () => {
    migration.stop();
    await db.destroy();
  });
}

function keepMigrating(db: Kysely<SharedTables>, retryMs = RETRY_MS): { firstTry: Promise<void>; stop(): void } {
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
        log.error('shared database not ready: held mail is deferred (4xx) until it is; clean mail still flows', {
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
