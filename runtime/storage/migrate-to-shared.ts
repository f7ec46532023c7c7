// `mailfilter storage migrate --to postgresql`: copies this appliance's quarantine (index, messages,
// daily counts) into the shared PostgreSQL named by storage.url, with progress. It changes nothing
// here, and run again it copies only what is still missing; switching storage.backend is the
// admin's step once it has finished.
import type { AppConfig } from '../config/schema.js';
import { QuarantineStore } from '../quarantine/store.js';
import { migrateShared, openSharedDatabase } from './shared-schema.js';

export async function migrateToShared(config: AppConfig, say: (line: string) => void): Promise<void> {
  if (!config.storage.url) throw new Error('storage migrate: set storage.url (and storage.caFile) in the config first');
  const db = openSharedDatabase(config.storage, 'mailfilter-migrate');
  const local = QuarantineStore.open(config.quarantine.dir, config.quarantine.maxSizeMb);
  try {
    await migrateShared(db);
    const shared = QuarantineStore.shared(db, config.quarantine.maxSizeMb);
    let shown = 0;
    const { copied, present } = await shared.copyFrom(local, (done, total) => {
      // A line every 5% (and the last): a quarantine of many thousand messages takes minutes.
      if (done === total || done - shown >= Math.max(1, Math.ceil(total / 20))) {
        shown = done;
        say(`quarantine: ${done} of ${total} messages`);
      }
    });
    say(`quarantine: ${copied} message(s) copied, ${present} already there; daily counts copied for the days the shared database had none of`);
    say('Nothing was changed here. Set storage.backend to "postgresql" in the config, then restart the filter and the viewer.');
  } finally {
    await local.close();
    await db.destroy();
  }
}
