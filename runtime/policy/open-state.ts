// Greylisting's memory and its chart counts as the config says: this appliance's own (the state
// file, the quarantine index), or the PostgreSQL several appliances share, whose schema this node
// brings up to date. A shared database down at start does not stop the service: until it answers,
// mail is let on ungreylisted (state-outage.ts).
import type { AppConfig } from '../config/schema.js';
import { doorCountsIn, openLocalDoorDatabase } from '../door-stats/door-counts.js';
import { keepMigrating } from '../storage/keep-migrating.js';
import { openSharedDatabase } from '../storage/shared-schema.js';
import { localCounts, sharedCounts, type CountsTarget } from './greylist-counts.js';
import { GreylistState } from './greylist-state.js';

export interface GreylistStorage {
  state: GreylistState;
  counts: CountsTarget;
  close(): Promise<void>;
}

export async function openGreylistStorage(config: AppConfig): Promise<GreylistStorage> {
  if (config.storage.backend === 'sqlite') {
    const state = GreylistState.open(config.greylist.stateFile);
    return { state, counts: localCounts(() => doorCountsIn(openLocalDoorDatabase(config.quarantine.dir))), close: () => state.close() };
  }
  // One request at a time per smtpd connection, a few smtpd processes: a small pool.
  const db = openSharedDatabase(config.storage, 'mailfilter-policy', 4);
  const migration = keepMigrating(db, 'greylisting is skipped (DUNNO) until it is');
  await migration.firstTry;
  return {
    state: GreylistState.shared(db),
    counts: sharedCounts(doorCountsIn(db)),
    async close() {
      migration.stop();
      await db.destroy();
    },
  };
}
