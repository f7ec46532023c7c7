// Messages the fetcher gave up on after failing on them several polls in a row (the server would
// not send them, or Postfix kept deferring them while it took others). They stay on the server,
// untouched, and are not tried again. This is what `mailfilter status` and the console show, read
// where the fetcher keeps its state: this appliance's seen.sqlite, or with storage.backend
// postgresql the shared database, where every node's fetcher records them (the cluster's list).
// Either way no running fetcher is needed.
import Database from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { existsSync } from 'node:fs';
import type { AppConfig } from '../config/schema.js';
import { seenStatePath, type FetchTables } from '../storage/fetch-db.js';
import { openSharedDatabase, type SharedTables } from '../storage/shared-schema.js';
import { SeenState, toFailure, type SetAsideMessage } from './seen-state.js';

export type { SetAsideMessage } from './seen-state.js';
export { seenStatePath } from '../storage/fetch-db.js';

export interface SetAsideList {
  /** Newest first. */
  messages: SetAsideMessage[];
  /** Read from the shared database: every node's, not only this appliance's. */
  cluster: boolean;
}

export interface SetAsideReadOptions {
  /** A handle on the shared database the caller holds already (the viewer's); without one a connection is opened for the read. */
  shared?: Kysely<SharedTables>;
  /** For that connection: how long it may take to connect (`mailfilter status` at login must not wait the daemons' 10 s). */
  connectTimeoutMs?: number;
}

/** The set-aside messages as the config keeps them. */
export async function readSetAside(config: AppConfig, { shared, connectTimeoutMs }: SetAsideReadOptions = {}): Promise<SetAsideList> {
  if (config.storage.backend !== 'postgresql') return { messages: listSetAside(config.fetch.stateDir), cluster: false };
  const db = shared ?? openSharedDatabase(config.storage, 'mailfilter-set-aside', 1, connectTimeoutMs);
  try {
    return { messages: await SeenState.shared(db).setAside(), cluster: true };
  } finally {
    if (!shared) await db.destroy();
  }
}

/** Set-aside messages in one appliance's state folder, newest first; none when the fetcher never ran. */
export function listSetAside(stateDir: string): SetAsideMessage[] {
  const path = seenStatePath(stateDir);
  if (!existsSync(path)) return [];
  // Read-write although it only reads: with the fetcher stopped the WAL files are gone, and a
  // read-only connection cannot make them.
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'failures'").get();
    if (!hasTable) return [];
    const rows = db.prepare('SELECT * FROM failures WHERE set_aside_at IS NOT NULL ORDER BY set_aside_at DESC').all() as Array<FetchTables['failures']>;
    return rows.map(toFailure) as SetAsideMessage[];
  } finally {
    db.close();
  }
}
