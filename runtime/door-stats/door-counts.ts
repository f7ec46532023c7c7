// The door's per-day counts (door_daily), where the console's chart reads them: this appliance's
// quarantine index, or the shared database when several appliances share one (each node adds its
// own, the chart shows their sum). The collector's place in the log stays in the node's own index:
// each node reads its own mail log.
import { Kysely, SqliteDialect, sql } from 'kysely';
import { openQuarantineDatabase, type QuarantineTables } from '../storage/quarantine-db.js';
import type { DoorKind } from './door-kinds.js';
import type { LogCursor } from './log-reader.js';

/** "day|kind" -> count. */
export type DoorTally = Map<string, number>;

type DoorCountsTables = Pick<QuarantineTables, 'door_daily'>;
export type DoorCountsDatabase = Kysely<DoorCountsTables>;

/** Any handle with door_daily, as the counts see it (a Kysely handle's type does not narrow by itself). */
export const doorCountsIn = <Tables extends DoorCountsTables>(db: Kysely<Tables>): DoorCountsDatabase => db as unknown as DoorCountsDatabase;

/** The node's own index as the collector uses it: the counts (one appliance) and the log cursor. */
export interface LocalDoorTables extends DoorCountsTables {
  door_log_cursor: { log_path: string; inode: number; offset: number };
}

export function tally(counts: DoorTally, day: string, kind: DoorKind, n = 1): void {
  const key = `${day}|${kind}`;
  counts.set(key, (counts.get(key) ?? 0) + n);
}

/** Adds the counts to what is there (another node may be adding its own at the same time). */
export async function addDoorCounts(db: DoorCountsDatabase, counts: DoorTally): Promise<void> {
  if (counts.size === 0) return;
  const rows = [...counts].map(([key, count]) => {
    const [day, kind] = key.split('|') as [string, string];
    return { day, kind, count };
  });
  await db
    .insertInto('door_daily')
    .values(rows)
    .onConflict((oc) => oc.columns(['day', 'kind']).doUpdateSet({ count: sql`door_daily.count + excluded.count` }))
    .execute();
}

/** The node's quarantine index (the folder exists), for the cursor and, on one appliance, the counts. */
export function openLocalDoorDatabase(quarantineDir: string): Kysely<LocalDoorTables> {
  return new Kysely<LocalDoorTables>({ dialect: new SqliteDialect({ database: openQuarantineDatabase(quarantineDir) }) });
}

export async function readCursor(db: Kysely<LocalDoorTables>, logPath: string): Promise<LogCursor | undefined> {
  return db.selectFrom('door_log_cursor').select(['inode', 'offset']).where('log_path', '=', logPath).executeTakeFirst();
}

export async function writeCursor(db: Kysely<LocalDoorTables>, logPath: string, cursor: LogCursor): Promise<void> {
  await db
    .insertInto('door_log_cursor')
    .values({ log_path: logPath, ...cursor })
    .onConflict((oc) => oc.column('log_path').doUpdateSet({ inode: cursor.inode, offset: cursor.offset }))
    .execute();
}
