// The fetcher's seen.sqlite copied into the shared PostgreSQL by `storage migrate` and `cluster join
// --copy`: without it a node in fetch mode would fetch, and deliver again, every message its
// mailboxes keep on the server. Seen messages and failure records (streaks and set-aside
// messages) are matched by mailbox and message id; what the shared database knows already is kept,
// so run again it copies nothing twice.
import { existsSync } from 'node:fs';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { openFetchDatabase, seenStatePath, type FetchTables } from './fetch-db.js';
import type { SharedTables } from './shared-schema.js';

/** Rows per statement: PostgreSQL takes at most 65535 parameters in one. */
const CHUNK = 1000;

type Key = { account: string; uid: string };

/** A row whose (account, uid) is one of `keys`. */
const keyIn = (keys: Key[]) => sql<boolean>`(account, uid) in (${sql.join(keys.map((k) => sql`(${k.account}, ${k.uid})`))})`;

/** Copies seen.sqlite in `stateDir` (when the fetcher ever ran here) into `shared` (migrated), saying what it did. */
export async function copyFetchStateToShared(stateDir: string, shared: Kysely<SharedTables>, say: (line: string) => void): Promise<void> {
  const path = seenStatePath(stateDir);
  if (!existsSync(path)) return;
  const local = new Kysely<FetchTables>({ dialect: new SqliteDialect({ database: openFetchDatabase(path) }) });
  try {
    const seen = await local.selectFrom('seen').selectAll().orderBy('account').orderBy('uid').execute();
    const copiedTo = new Set<string>();
    let copied = 0;
    for (let start = 0; start < seen.length; start += CHUNK) {
      const chunk = seen.slice(start, start + CHUNK);
      await shared.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('seen')
          .values(chunk)
          .onConflict((oc) => oc.columns(['account', 'uid']).doNothing())
          .returning(['account', 'uid'])
          .execute();
        copied += inserted.length;
        for (const row of inserted) copiedTo.add(row.account);
        // As when a fetcher records a message: seen, so no longer failing (another node may have failed on it).
        if (inserted.length > 0) await trx.deleteFrom('failures').where(keyIn(inserted)).execute();
      });
    }
    say(`fetch: ${copied} seen message(s) in ${copiedTo.size} mailbox(es) copied, ${seen.length - copied} already there`);

    const failures = await local.selectFrom('failures').selectAll().orderBy('account').orderBy('uid').execute();
    let failuresCopied = 0;
    let setAsideCopied = 0;
    for (let start = 0; start < failures.length; start += CHUNK) {
      const chunk = failures.slice(start, start + CHUNK);
      // A message the shared database has as seen was fetched by some node: its failures here are over.
      const fetched = new Set(
        (await shared.selectFrom('seen').select(['account', 'uid']).where(keyIn(chunk)).execute()).map((k) => JSON.stringify([k.account, k.uid])),
      );
      const missing = chunk.filter((row) => !fetched.has(JSON.stringify([row.account, row.uid])));
      if (missing.length === 0) continue;
      const inserted = await shared
        .insertInto('failures')
        .values(missing)
        .onConflict((oc) => oc.columns(['account', 'uid']).doNothing())
        .returning('set_aside_at')
        .execute();
      failuresCopied += inserted.length;
      setAsideCopied += inserted.filter((row) => row.set_aside_at !== null).length;
    }
    say(
      `fetch: ${failuresCopied} failing message(s) copied, ${setAsideCopied} of them set aside; ${failures.length - failuresCopied} already there or fetched since (what the shared database knew already kept)`,
    );
  } finally {
    await local.destroy();
  }
}
