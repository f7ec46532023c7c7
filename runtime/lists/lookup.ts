// The filter's and the policy service's view of the sender lists: the viewer's database, only read
// from, asked for every message (an entry made on any node of a cluster counts for the next one).
// A database that cannot be read means "no list entry", logged: the spam, virus and banned checks
// still decide, so mail is neither lost nor waved through unchecked.
import type { Logger } from '../log.js';
import type { ViewerDbReader } from '../storage/open-viewer.js';
import { findMatch, type ListMatch } from './sender-lists.js';

export type SenderListLookup = (recipient: string, senders: string[]) => Promise<ListMatch | null>;

export function senderListLookup(viewerDb: ViewerDbReader, log: Logger): SenderListLookup {
  let warned = false;
  return async (recipient, senders) => {
    try {
      // No viewer database yet (viewer off, or not started): no entry.
      const db = viewerDb.current();
      if (!db) return null;
      const match = await findMatch(db, recipient, senders);
      warned = false;
      return match;
    } catch (err) {
      // "no such table": a database from before the lists; anything else is worth a line, once
      // until the lists answer again.
      if (!warned) log.warn('sender lists not consulted', { database: viewerDb.where, error: (err as Error).message });
      warned = true;
      return null;
    }
  };
}
