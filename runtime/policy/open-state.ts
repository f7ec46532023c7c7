// Greylisting's memory and its chart counts as the config says: this appliance's own (the state
// file, the quarantine index), or the PostgreSQL several appliances share, through the process's
// handle (shared-handle.ts), which brings its schema up to date. A shared database down at start does
// not stop the service: until it answers, mail is let on ungreylisted (state-outage.ts).
import type { AppConfig } from '../config/schema.js';
import { doorCountsIn, openLocalDoorDatabase } from '../door-stats/door-counts.js';
import type { SharedHandle } from '../storage/shared-handle.js';
import { localCounts, sharedCounts, type CountsTarget } from './greylist-counts.js';
import { GreylistState } from './greylist-state.js';

export interface GreylistStorage {
  state: GreylistState;
  counts: CountsTarget;
  close(): Promise<void>;
}

/** `shared` is the process's handle when storage.backend is postgresql (null otherwise); the caller closes it. */
export async function openGreylistStorage(config: AppConfig, shared: SharedHandle | null): Promise<GreylistStorage> {
  if (!shared) {
    const state = GreylistState.open(config.greylist.stateFile);
    return { state, counts: localCounts(() => doorCountsIn(openLocalDoorDatabase(config.quarantine.dir))), close: () => state.close() };
  }
  await shared.firstTry;
  return { state: GreylistState.shared(shared.db), counts: sharedCounts(doorCountsIn(shared.db)), close: () => Promise.resolve() };
}
