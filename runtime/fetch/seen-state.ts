// What became of each message of each mailbox (POP3 UIDL, IMAP UIDVALIDITY:UID), across restarts:
// in the fetcher's own seen.sqlite, or in the shared database when several appliances fetch (a
// node taking a mailbox over then knows what the one before it fetched). The same queries for both
// (storage/fetch-db.ts declares the tables). A message is recorded as seen right after Postfix's
// 250 (or after its quarantine copy), before it is deleted on the server. Nothing is deleted that
// is not recorded, so a crash can cost a duplicate, never a loss: a kill between Postfix's 250 and
// this write (a few milliseconds) makes the next poll fetch the message again; a kill after it only
// delays the delete to the next poll.
import { Kysely, SqliteDialect, sql } from 'kysely';
import { openFetchDatabase, type FetchTables } from '../storage/fetch-db.js';
import type { SharedTables } from '../storage/shared-schema.js';

export type MessageState = 'new' | 'seen' | 'set-aside';

export interface FailureRow {
  account: string;
  uid: string;
  streak: number;
  lastError: string;
  firstFailedAt: number;
  lastFailedAt: number;
  setAsideAt: number | null;
}

export type SetAsideMessage = FailureRow & { setAsideAt: number };

export class SeenState {
  private constructor(
    private readonly db: Kysely<FetchTables>,
    /** Ends the database handle, when the state opened it. */
    private readonly closeDatabase: () => Promise<void>,
  ) {}

  /** One appliance's fetcher: the SQLite file at `path`. */
  static open(path: string): SeenState {
    const db = new Kysely<FetchTables>({ dialect: new SqliteDialect({ database: openFetchDatabase(path) }) });
    return new SeenState(db, () => db.destroy());
  }

  /** Several appliances' fetchers: the shared database (migrated, closed by its opener). */
  static shared(db: Kysely<SharedTables>): SeenState {
    return new SeenState(db as unknown as Kysely<FetchTables>, () => Promise.resolve());
  }

  async state(account: string, uid: string): Promise<MessageState> {
    const seen = await this.db.selectFrom('seen').select('uid').where('account', '=', account).where('uid', '=', uid).executeTakeFirst();
    if (seen) return 'seen';
    const failure = await this.db.selectFrom('failures').select('set_aside_at').where('account', '=', account).where('uid', '=', uid).executeTakeFirst();
    return failure?.set_aside_at ? 'set-aside' : 'new';
  }

  /** The message has its outcome (delivered or quarantined): seen, and its failures forgotten. */
  async record(account: string, uid: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('seen')
        .values({ account, uid, fetched_at: Date.now() })
        .onConflict((oc) => oc.columns(['account', 'uid']).doNothing())
        .execute();
      await trx.deleteFrom('failures').where('account', '=', account).where('uid', '=', uid).execute();
    });
  }

  /** One more poll that failed on this message; sets it aside at `setAsideAfter`. Returns the row. */
  async recordFailure(account: string, uid: string, error: string, setAsideAfter: number): Promise<FailureRow> {
    const now = Date.now();
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('failures')
        .values({ account, uid, streak: 1, last_error: error, first_failed_at: now, last_failed_at: now })
        .onConflict((oc) => oc.columns(['account', 'uid']).doUpdateSet({ streak: sql`failures.streak + 1`, last_error: error, last_failed_at: now }))
        .execute();
      await trx
        .updateTable('failures')
        .set({ set_aside_at: now })
        .where('account', '=', account)
        .where('uid', '=', uid)
        .where('streak', '>=', setAsideAfter)
        .where('set_aside_at', 'is', null)
        .execute();
      const row = await trx.selectFrom('failures').selectAll().where('account', '=', account).where('uid', '=', uid).executeTakeFirstOrThrow();
      return toFailure(row);
    });
  }

  /** Forgets ids the server no longer has, so the tables do not grow forever. */
  async prune(account: string, present: Set<string>): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const table of ['seen', 'failures'] as const) {
        const rows = await trx.selectFrom(table).select('uid').where('account', '=', account).execute();
        const gone = rows.map((r) => r.uid).filter((uid) => !present.has(uid));
        // A page at a time: a mailbox emptied by hand can leave thousands.
        for (let i = 0; i < gone.length; i += 500)
          await trx
            .deleteFrom(table)
            .where('account', '=', account)
            .where('uid', 'in', gone.slice(i, i + 500))
            .execute();
      }
    });
  }

  /** Set-aside messages of every mailbox, newest first. */
  async setAside(): Promise<SetAsideMessage[]> {
    const rows = await this.db.selectFrom('failures').selectAll().where('set_aside_at', 'is not', null).orderBy('set_aside_at', 'desc').execute();
    return rows.map(toFailure) as SetAsideMessage[];
  }

  async close(): Promise<void> {
    await this.closeDatabase();
  }
}

/** A failures row as the fetcher, status and the console read it. */
export function toFailure(row: FetchTables['failures']): FailureRow {
  return {
    account: row.account,
    uid: row.uid,
    streak: Number(row.streak),
    lastError: row.last_error,
    firstFailedAt: Number(row.first_failed_at),
    lastFailedAt: Number(row.last_failed_at),
    setAsideAt: row.set_aside_at === null ? null : Number(row.set_aside_at),
  };
}
