// The viewer's database as the config says: this appliance's own viewer.sqlite, or the one several
// appliances share in PostgreSQL (one login, one set of lists, settings and audit for the cluster),
// reached through the process's handle (shared-handle.ts).
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { AppConfig } from '../config/schema.js';
import type { SharedHandle } from './shared-handle.js';
import { openViewerDatabase, viewerDatabasePath, viewerKysely, type ViewerDatabase } from './viewer-db.js';

export interface OpenViewerDatabase {
  db: ViewerDatabase;
  close(): Promise<void>;
}

/** `shared` is the process's handle when storage.backend is postgresql (null otherwise); the caller closes it. */
export async function openViewerDb(config: AppConfig, shared: SharedHandle | null): Promise<OpenViewerDatabase> {
  if (!shared) {
    const db = viewerKysely(openViewerDatabase(config.viewer.dataDir));
    return { db, close: () => db.destroy() };
  }
  await shared.firstTry;
  // The shared tables include the viewer's: the same handle, seen through the viewer's tables only.
  return { db: shared.db as unknown as ViewerDatabase, close: () => Promise.resolve() };
}

/** The viewer's database as the filter and the policy service reach it: they use it, the viewer owns it. */
export interface ViewerDbReader {
  /** The database, or null while viewer.sqlite does not exist yet; throws when it cannot be opened. */
  current(): ViewerDatabase | null;
  /** Where it is, for log lines. */
  where: string;
  close(): Promise<void>;
}

/** How long a missing viewer.sqlite is taken as missing: not looked for on every message. */
const MISSING_RECHECK_MS = 10_000;

/** The viewer's tables where the viewer keeps them (openViewerDb), read by the filter and the policy service. */
export function openViewerDbReader(config: AppConfig, shared: SharedHandle | null): ViewerDbReader {
  return shared ? sharedViewerDbReader(shared) : localViewerDbReader(config.viewer.dataDir);
}

/** The shared database, asked on every call: what one node changes counts on all of them at once. Not migrated or closed here. */
export function sharedViewerDbReader(shared: SharedHandle): ViewerDbReader {
  const db = shared.db as unknown as ViewerDatabase;
  return { current: () => db, where: 'the shared database', close: () => Promise.resolve() };
}

/** viewer.sqlite once the viewer has made it: never made or migrated here, looked for again every 10 s. */
export function localViewerDbReader(viewerDataDir: string): ViewerDbReader {
  const path = viewerDatabasePath(viewerDataDir);
  let db: ViewerDatabase | null = null;
  let missingUntil = 0;
  return {
    where: path,
    current() {
      if (db) return db;
      if (Date.now() < missingUntil) return null;
      if (!existsSync(path)) {
        missingUntil = Date.now() + MISSING_RECHECK_MS;
        return null;
      }
      // Not opened read-only: with the viewer stopped, SQLite has removed its WAL files, and a
      // read-only connection could not make them again.
      const connection = new Database(path, { fileMustExist: true });
      connection.pragma('busy_timeout = 2000');
      return (db = viewerKysely(connection));
    },
    async close() {
      await db?.destroy();
      db = null;
    },
  };
}
