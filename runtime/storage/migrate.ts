// Numbered schema migrations for an SQLite file, its version kept in PRAGMA user_version. Migration
// 1 is the schema as the first versioned release found it (CREATE ... IF NOT EXISTS), so a file
// made before versions existed, at user_version 0, is brought to 1 without losing a row and then
// forward like any other.
import Database from 'better-sqlite3';
import { basename } from 'node:path';

export interface Migration {
  version: number;
  /** What changed, in a few words, for the error when it fails. */
  what: string;
  up(db: Database.Database): void;
}

/** Adds a column unless it is there: files made between a release and its migration may have it. */
export function addColumnIfMissing(db: Database.Database, table: string, column: string, definition: string): void {
  const columns = db
    .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
    .all()
    .map((c) => c.name);
  if (!columns.includes(column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
}

export function dropColumnIfPresent(db: Database.Database, table: string, column: string): void {
  const columns = db
    .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
    .all()
    .map((c) => c.name);
  if (columns.includes(column)) db.exec(`ALTER TABLE ${table} DROP COLUMN ${column}`);
}

export const schemaVersion = (db: Database.Database): number => db.pragma('user_version', { simple: true }) as number;

/**
 * Runs the migrations above the file's version, all in one immediate transaction: two processes
 * opening an old file at once (viewer and digest, filter and viewer) migrate it once, and a
 * failure leaves it as it was.
 */
export function migrate(db: Database.Database, name: string, migrations: readonly Migration[]): void {
  const latest = migrations.length;
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`${name}: migration ${m.version} out of order`);
  });
  // Up to date (every open but the first after an upgrade): no write lock taken.
  if (schemaVersion(db) === latest) return;
  db.transaction(() => {
    const current = schemaVersion(db);
    if (current > latest) throw new Error(`${name} has schema version ${current}, newer than this release knows (${latest}); it was opened by a newer release`);
    for (const migration of migrations.slice(current)) {
      try {
        migration.up(db);
      } catch (err) {
        throw new Error(`${name}: migration ${migration.version} (${migration.what}) failed: ${(err as Error).message}`);
      }
    }
    if (current < latest) db.pragma(`user_version = ${latest}`);
  }).immediate();
}

/** Opens a file with these pragmas (journal mode first) and migrates it; closed again when that fails. */
export function openMigrated(path: string, pragmas: readonly string[], migrations: readonly Migration[]): Database.Database {
  const db = new Database(path);
  try {
    for (const pragma of pragmas) db.pragma(pragma);
    migrate(db, basename(path), migrations);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
