// The quarantine as the config says: this appliance's own (SQLite and files), or the one several
// appliances share in PostgreSQL, reached through the process's handle (shared-handle.ts), which
// brings the schema up to date. A shared database that cannot be reached at start does not stop
// the daemon: clean mail still flows, keeping a message fails (the filter answers 4xx, the sender
// retries), and the schema is brought up to date as soon as the database answers.
import type { AppConfig } from '../config/schema.js';
import { expiryOncePerCluster } from '../cluster/expiry.js';
import { holderName } from '../cluster/lease.js';
import { logger } from '../log.js';
import { QuarantineStore } from '../quarantine/store.js';
import type { SharedHandle } from './shared-handle.js';

/** `shared` is the process's handle when storage.backend is postgresql (null otherwise); the caller closes it. */
export async function openQuarantine(config: AppConfig, shared: SharedHandle | null): Promise<QuarantineStore> {
  const { quarantine } = config;
  if (!shared) return QuarantineStore.open(quarantine.dir, quarantine.maxSizeMb);
  await shared.firstTry;
  const expiry = expiryOncePerCluster(shared.db, holderName(config.network.hostname), logger('quarantine'));
  return QuarantineStore.shared(shared.db, quarantine.maxSizeMb, undefined, expiry);
}
