// The shared database as one process holds it (storage.backend postgresql): one pool, sized for
// the process and named after it in pg_stat_activity, and one bring-up of the schema at start, kept
// trying while the database does not answer. The process's wiring opens it and hands it to the
// stores it builds; they use it and leave closing it to the wiring, after them.
import type { Kysely } from 'kysely';
import type { AppConfig } from '../config/schema.js';
import { keepMigrating } from './keep-migrating.js';
import { openSharedDatabase, type SharedTables } from './shared-schema.js';

export interface SharedHandle {
  db: Kysely<SharedTables>;
  /** Settles after the first try at the schema, reached or not (it is tried again until it is). */
  firstTry: Promise<void>;
  close(): Promise<void>;
}

export interface ProcessShare {
  /** The process, as the server lists its connections: mailfilter-filter, mailfilter-viewer, … */
  name: string;
  /** Connections in the pool: about what the process asks at once. */
  maxConnections: number;
  /** What the process does until the database answers, for the log line that says it is down. */
  whileDown?: string;
}

/** This process's handle, or null on an appliance alone (storage.backend sqlite). */
export function openSharedHandle(config: AppConfig, share: ProcessShare): SharedHandle | null {
  if (config.storage.backend !== 'postgresql') return null;
  const db = openSharedDatabase(config.storage, share.name, share.maxConnections);
  const migration = keepMigrating(db, share.whileDown);
  return {
    db,
    firstTry: migration.firstTry,
    async close() {
      migration.stop();
      await db.destroy();
    },
  };
}
