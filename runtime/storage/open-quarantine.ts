// The quarantine as the config says: this appliance's own (SQLite and files), or the one several
// appliances share in PostgreSQL, whose schema this node brings up to date (once, under a lock).
// A shared database that cannot be reached at start does not stop the daemon: clean mail still
// flows, keeping a message fails (the filter answers 4xx, the sender retries), and the schema is
// brought up to date as soon as the database answers.
import type { AppConfig } from '../config/schema.js';
import { expiryOncePerCluster } from '../cluster/expiry.js';
import { holderName } from '../cluster/lease.js';
import { logger } from '../log.js';
import { QuarantineStore } from '../quarantine/store.js';
import { keepMigrating } from './keep-migrating.js';
import { openSharedDatabase } from './shared-schema.js';

export async function openQuarantine(config: AppConfig, applicationName = 'mailfilter'): Promise<QuarantineStore> {
  const { storage, quarantine } = config;
  if (storage.backend === 'sqlite') return QuarantineStore.open(quarantine.dir, quarantine.maxSizeMb);
  const db = openSharedDatabase(storage, applicationName);
  const migration = keepMigrating(db);
  await migration.firstTry;
  const expiry = expiryOncePerCluster(db, holderName(config.network.hostname), logger('quarantine'));
  return QuarantineStore.shared(
    db,
    quarantine.maxSizeMb,
    async () => {
      migration.stop();
      await db.destroy();
    },
    expiry,
  );
}
