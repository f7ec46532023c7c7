// The viewer's database as the config says: this appliance's own viewer.sqlite, or the one several
// appliances share in PostgreSQL (one login, one set of lists, settings and audit for the cluster).
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { AppConfig } from '../config/schema.js';
import { keepMigrating } from './keep-migrating.js';
import { openSharedDatabase } from './shared-schema.js';
import { openViewerDatabase, viewerDatabasePath, viewerKysely, type ViewerDatabase } from './viewer-db.js';

export interface OpenViewerDatabase {
  db: ViewerDatabase;
  close(): Promise<void>;
}

export async function openViewerDb(config: AppConfig, applicationName = 'mailfilter-viewer'): Promise<OpenViewerDatabase> {
  if (config.storage.backend === 'sqlite') {
    const db = viewerKysely(openViewerDatabase(config.viewer.dataDir));
    return { db, close: () => db.destroy() };
  }
  const shared = openSharedDatabase(config.storage, applicationName);
  const migration = keepMigrating(shared, "users, lists and settings cannot be read or changed until it answers (the viewer shows 'try again shortly')");
  await migration.firstTry;
  return {
    // The shared tables include the viewer's: the same handle, seen through the viewer's tables only.
    db: shared as unknown as ViewerDatabase,
    async close() {
      migration.stop();
      await shared.destroy();
    },
  };
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
export function openViewerDbReader(config: AppConfig, applicationName: string): ViewerDbReader {
  return config.storage.backend === 'postgresql' ? sharedViewerDbReader(config.storage, applicationName) : localViewerDbReader(config.viewer.dataDir);
}

/** The shared database, asked on every call: what one node changes counts on all of them at once. Not migrated here. */
export function sharedViewerDbReader(storage: AppConfig['storage'], applicationName: string): ViewerDbReader {
  const shared = openSharedDatabase(storage, applicationName, 4) as unknown as ViewerDatabase;
  return { current: () => shared, where: 'the shared database', close: () => shared.destroy() };
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
