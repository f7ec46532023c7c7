// The greylist's memory: when each triplet of client network, sender and recipient was first seen
// and whether its retry came; per client network, how many retries it passed. The same queries run
// on one appliance's SQLite file and on the PostgreSQL several appliances share, so a triplet first
// seen by one node is let through when its retry reaches another.
import { Kysely, SqliteDialect, sql, type ExpressionBuilder } from 'kysely';
import { openGreylistDatabase, type GreylistTables } from '../storage/greylist-db.js';
import type { SharedTables } from '../storage/shared-schema.js';

export interface Triplet {
  network: string;
  sender: string;
  recipient: string;
}

export type TripletState = { kind: 'new' } | { kind: 'waiting'; secondsLeft: number } | { kind: 'passed'; firstPass: boolean };

/** What the greylisting decision asks of its memory. */
export interface TripletMemory {
  clientAllowed(network: string, autoAllowAfter: number): Promise<boolean>;
  attempt(triplet: Triplet, delaySeconds: number, nowMs: number): Promise<TripletState>;
}

const sameTriplet =
  ({ network, sender, recipient }: Triplet) =>
  (eb: ExpressionBuilder<GreylistTables, 'greylist_triplets'>) =>
    eb.and([eb('network', '=', network), eb('sender', '=', sender), eb('recipient', '=', recipient)]);

export class GreylistState implements TripletMemory {
  private constructor(
    private readonly db: Kysely<GreylistTables>,
    /** Ends the database handle, when the state opened it. */
    private readonly closeDatabase: () => Promise<void>,
  ) {}

  /** One appliance's state: the SQLite file at `path`. */
  static open(path: string): GreylistState {
    const db = new Kysely<GreylistTables>({ dialect: new SqliteDialect({ database: openGreylistDatabase(path) }) });
    return new GreylistState(db, () => db.destroy());
  }

  /** The state several appliances share (the database migrated); its handle is the caller's to end. */
  static shared(db: Kysely<SharedTables>): GreylistState {
    return new GreylistState(db as unknown as Kysely<GreylistTables>, () => Promise.resolve());
  }

  /** Whether the client network has passed enough retries to be let through unasked. */
  async clientAllowed(network: string, autoAllowAfter: number): Promise<boolean> {
    const row = await this.db.selectFrom('greylist_clients').select('passes').where('network', '=', network).executeTakeFirst();
    return row !== undefined && Number(row.passes) >= autoAllowAfter;
  }

  /**
   * Looks the triplet up and records this attempt: a new triplet starts its delay now. Written so
   * that two nodes asked at once agree: the insert and the flip to passed each happen once.
   */
  attempt(triplet: Triplet, delaySeconds: number, nowMs: number): Promise<TripletState> {
    const { network, sender, recipient } = triplet;
    return this.db.transaction().execute(async (trx): Promise<TripletState> => {
      const inserted = await trx
        .insertInto('greylist_triplets')
        .values({ network, sender, recipient, first_seen: nowMs, last_seen: nowMs, passed: 0 })
        .onConflict((oc) => oc.columns(['network', 'sender', 'recipient']).doNothing())
        .returning('first_seen')
        .executeTakeFirst();
      if (inserted) return { kind: 'new' };
      const row = await trx.selectFrom('greylist_triplets').select(['first_seen', 'passed']).where(sameTriplet(triplet)).executeTakeFirstOrThrow();
      const waited = (nowMs - Number(row.first_seen)) / 1000;
      if (!row.passed && waited < delaySeconds) return { kind: 'waiting', secondsLeft: Math.ceil(delaySeconds - waited) };
      const firstPass = await trx
        .updateTable('greylist_triplets')
        .set({ passed: 1, last_seen: nowMs })
        .where(sameTriplet(triplet))
        .where('passed', '=', 0)
        .returning('network')
        .executeTakeFirst();
      if (firstPass) {
        await trx
          .insertInto('greylist_clients')
          .values({ network, passes: 1, last_seen: nowMs })
          .onConflict((oc) => oc.column('network').doUpdateSet({ passes: sql`greylist_clients.passes + 1`, last_seen: nowMs }))
          .execute();
        return { kind: 'passed', firstPass: true };
      }
      await trx.updateTable('greylist_triplets').set({ last_seen: nowMs }).where(sameTriplet(triplet)).execute();
      await trx.updateTable('greylist_clients').set({ last_seen: nowMs }).where('network', '=', network).execute();
      return { kind: 'passed', firstPass: false };
    });
  }

  /** Forgets triplets and clients not seen for `expiryDays`; returns how many triplets went. */
  async expire(expiryDays: number, nowMs: number): Promise<number> {
    const before = nowMs - expiryDays * 86_400_000;
    const gone = await this.db.deleteFrom('greylist_triplets').where('last_seen', '<', before).executeTakeFirst();
    await this.db.deleteFrom('greylist_clients').where('last_seen', '<', before).execute();
    return Number(gone.numDeletedRows);
  }

  close(): Promise<void> {
    return this.closeDatabase();
  }
}
