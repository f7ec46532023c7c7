// The quarantine as the config says: this appliance's own (SQLite and files), or the one several
// appliances share in PostgreSQL, whose schema this node brings up to date (once, under a lock).
import type { AppConfig } from '../config/schema.js';
import { QuarantineStore } from '../quarantine/store.js';
import { openPostgres } from './postgres.js';
import { migrateShared, type SharedTables } from './shared-schema.js';

export async function openQuarantine(config: AppConfig, applicationName = 'mailfilter'): Promise<QuarantineStore> {
  const { storage, quarantine } = config;
  if (storage.backend === 'sqlite') return QuarantineStore.open(quarantine.dir, quarantine.maxSizeMb);
  const db = openPostgres<SharedTables>({ url: storage.url, caFile: storage.caFile, applicationName });
  try {
    await migrateShared(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return QuarantineStore.shared(db, quarantine.maxSizeMb, () => db.destroy());
}
