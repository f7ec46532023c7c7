// `mailfilter storage migrate --to postgresql`: copies this appliance's quarantine (index, messages,
// daily counts), greylisting state, viewer database (users, lists, audit, requests, settings:
// copy-viewer-db.ts) and fetch mode's record of fetched and failing messages (copy-fetch-state.ts)
// into the shared PostgreSQL named by storage.url, with progress. It changes nothing here, and run
// again it copies only what is still missing; switching storage.backend is the admin's step once it
// has finished (or `mailfilter cluster join`'s, which copies the same way).
import { existsSync } from 'node:fs';
import { Kysely, SqliteDialect, type InsertResult } from 'kysely';
import type { AppConfig } from '../config/schema.js';
import { QuarantineStore } from '../quarantine/store.js';
import { copyFetchStateToShared } from './copy-fetch-state.js';
import { copyViewerToShared } from './copy-viewer-db.js';
import { openGreylistDatabase, type GreylistTables } from './greylist-db.js';
import { migrateShared, openSharedDatabase, type SharedTables } from './shared-schema.js';

export async function migrateToShared(config: AppConfig, say: (line: string) => void): Promise<void> {
  if (!config.storage.url) throw new Error('storage migrate: set storage.url (and storage.caFile) in the config first');
  const db = openSharedDatabase(config.storage, 'mailfilter-migrate');
  try {
    await migrateShared(db);
    await copyApplianceToShared(config, db, say);
    say('Nothing was changed here. Set storage.backend to "postgresql" in the config, then restart the filter and the viewer.');
  } finally {
    await db.destroy();
  }
}

/** Everything this appliance keeps that the cluster shares: quarantine, greylisting state, viewer database, fetch state. */
export async function copyApplianceToShared(config: AppConfig, db: Kysely<SharedTables>, say: (line: string) => void): Promise<void> {
  await copyQuarantineToShared(config, db, say);
  await copyViewerToShared(config.viewer.dataDir, db, say);
  await copyFetchStateToShared(config.fetch.stateDir, db, say);
}

/** Copies this appliance's quarantine and greylisting state into the shared database `db` (migrated), saying how far it got. */
export async function copyQuarantineToShared(config: AppConfig, db: Kysely<SharedTables>, say: (line: string) => void): Promise<void> {
  const local = QuarantineStore.open(config.quarantine.dir, config.quarantine.maxSizeMb);
  try {
    const shared = QuarantineStore.shared(db, config.quarantine.maxSizeMb);
    let shown = 0;
    const { copied, present } = await shared.copyFrom(local, (done, total) => {
      // A line every 5% (and the last): a quarantine of many thousand messages takes minutes.
      if (done === total || done - shown >= Math.max(1, Math.ceil(total / 20))) {
        shown = done;
        say(`quarantine: ${done} of ${total} messages`);
      }
    });
    say(`quarantine: ${copied} message(s) copied, ${present} already there; daily counts copied for the days the shared database had none of`);
    if (existsSync(config.greylist.stateFile)) {
      const { triplets, clients } = await copyGreylisting(config.greylist.stateFile, db);
      say(`greylisting: ${triplets} triplet(s) and ${clients} client network(s) copied (what the shared database knew already kept)`);
    }
  } finally {
    await local.close();
  }
}

/**
 * Copies the greylisting state file's rows the shared database lacks: senders waiting out their
 * delay here are let through by any node, and networks that earned auto-allow keep it.
 */
async function copyGreylisting(stateFile: string, shared: Kysely<SharedTables>): Promise<{ triplets: number; clients: number }> {
  const local = new Kysely<GreylistTables>({ dialect: new SqliteDialect({ database: openGreylistDatabase(stateFile) }) });
  try {
    const triplets = await local.selectFrom('greylist_triplets').selectAll().execute();
    const clients = await local.selectFrom('greylist_clients').selectAll().execute();
    return {
      triplets: await inChunks(triplets, (chunk) =>
        shared
          .insertInto('greylist_triplets')
          .values(chunk)
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst(),
      ),
      clients: await inChunks(clients, (chunk) =>
        shared
          .insertInto('greylist_clients')
          .values(chunk)
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst(),
      ),
    };
  } finally {
    await local.destroy();
  }
}

/** Inserts 1000 rows at a time (PostgreSQL takes at most 65535 parameters in one statement); how many went in. */
async function inChunks<Row>(rows: Row[], insert: (chunk: Row[]) => Promise<InsertResult>): Promise<number> {
  let inserted = 0;
  for (let start = 0; start < rows.length; start += 1000) inserted += Number((await insert(rows.slice(start, start + 1000))).numInsertedOrUpdatedRows ?? 0);
  return inserted;
}
