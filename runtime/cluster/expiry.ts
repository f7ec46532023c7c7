// Quarantine expiry when several appliances share the quarantine: each node's filter finds it over
// its size after keeping a message, but only the node that takes the "quarantine-expiry" lease
// deletes the oldest messages; the others leave it to that node and go on. One process runs one
// deletion at a time (the filter keeps many messages at once, all under this node's name).
import type { Kysely } from 'kysely';
import type { Logger } from '../log.js';
import type { ExpiryRunner } from '../quarantine/store.js';
import type { SharedTables } from '../storage/shared-schema.js';
import { runOncePerCluster } from './lease.js';

export const EXPIRY_LEASE = 'quarantine-expiry';
/** Renewed every third of it while deleting; a dead node's deletion is taken over after it. */
const EXPIRY_LEASE_MS = 30_000;

export function expiryOncePerCluster(db: Kysely<SharedTables>, holder: string, log: Logger, ttlMs = EXPIRY_LEASE_MS): ExpiryRunner {
  let running: Promise<number> | null = null;
  const run: ExpiryRunner = async (deleteOldest) => {
    let result;
    try {
      result = await runOncePerCluster(db, { name: EXPIRY_LEASE, holder, ttlMs }, deleteOldest);
    } catch (err) {
      // The message that found the quarantine full is kept already: tried again at the next one.
      log.warn('quarantine expiry failed, tried again when the next message is kept', { error: (err as Error).message });
      return 0;
    }
    if (!result.ran) {
      log.debug('quarantine over its size: the node holding the expiry lease deletes the oldest', { held_by: result.heldBy });
      return 0;
    }
    if (result.value > 0) log.info('quarantine over its size: oldest messages deleted', { removed: result.value, lease_holder: holder });
    return result.value;
  };
  return (deleteOldest) => {
    running ??= run(deleteOldest).finally(() => {
      running = null;
    });
    return running;
  };
}
