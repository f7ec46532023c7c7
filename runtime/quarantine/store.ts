// The quarantine: each message's bytes made durable (a file fsync'd with its folder, or rows in the
// shared database) before the index row that points at them is committed, so a row always points
// at a message that is kept. The viewer, release and statistics read it through this API only; the
// same queries run on the appliance's own SQLite index and on the shared PostgreSQL.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Kysely, SqliteDialect, sql, type ExpressionBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { Category } from '../config/schema.js';
import { openQuarantineDatabase, scoreInDetail, type QuarantineTables } from '../storage/quarantine-db.js';
import type { SharedTables } from '../storage/shared-schema.js';
import { utcDay } from '../time/utc.js';
import type { DoorKind } from '../door-stats/door-kinds.js';
import { databaseBodies, fileBodies, type LocalFile, type MessageBodies } from './bodies.js';

export interface QuarantineInput {
  id: string;
  receivedAt: Date;
  mailFrom: string;
  recipients: string[];
  headerFrom: string;
  headerTo: string;
  subject: string;
  reason: Category;
  detail: string;
  size: number;
}

/** One recipient's copy sent on by a release; each recipient's release is their own. */
export interface RecipientRelease {
  address: string;
  at: number;
  by: string;
}

export interface QuarantineEntry extends Omit<QuarantineInput, 'receivedAt'> {
  receivedAt: number;
  path: string;
  /** The recipients already released to; the others still wait. */
  releases: RecipientRelease[];
}

export interface ListQuery {
  /** Only messages to these addresses; undefined means every message (the administrator). */
  addresses?: string[];
  reason?: Category;
  /** Searched in Subject, From and To (never the body). */
  search?: string;
  /** Only messages received after this time (ms since the epoch). */
  receivedAfter?: number;
  /** Only messages received at or after this time (ms since the epoch): a date range's start. */
  receivedFrom?: number;
  /** Only messages received before this time (ms since the epoch): a date range's end, exclusive. */
  receivedBefore?: number;
  /** The order of list(); newest first when not given. */
  sort?: ListSort;
  /** Leave out messages already released to every one of `addresses` (to every recipient without them). */
  unreleased?: boolean;
  limit?: number;
  offset?: number;
}

export const SORT_KEYS = ['date', 'from', 'subject', 'reason', 'score', 'size'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface ListSort {
  by: SortKey;
  descending: boolean;
}

type Tables = QuarantineTables;
type MessageQuery = SelectQueryBuilder<Tables & { m: Tables['messages'] }, 'm', object>;

/** What each sort key orders by; messages without a score sort after the others. */
function sortExpression(by: SortKey) {
  switch (by) {
    case 'date':
      return sql`m.received_at`;
    case 'from':
      return sql`lower(CASE WHEN m.header_from <> '' THEN m.header_from ELSE m.mail_from END)`;
    case 'subject':
      return sql`lower(m.subject)`;
    case 'reason':
      return sql`m.reason`;
    case 'score':
      return sql`m.score`;
    case 'size':
      return sql`m.size`;
  }
}

function ordered(query: MessageQuery, sort: ListSort | undefined): MessageQuery {
  if (!sort || sort.by === 'date') {
    const direction = sort && !sort.descending ? 'asc' : 'desc';
    return query.orderBy('m.received_at', direction).orderBy('m.id', direction);
  }
  const expression = sortExpression(sort.by);
  return query
    .orderBy(sql`CASE WHEN ${expression} IS NULL THEN 1 ELSE 0 END`)
    .orderBy(expression, sort.descending ? 'desc' : 'asc')
    .orderBy('m.received_at', 'desc')
    .orderBy('m.id', 'desc');
}

export type Outcome = 'CLEAN' | Category;

/**
 * Runs the deletion of the oldest messages: at once on one appliance; under the cluster's expiry
 * lease when several share the quarantine (cluster/expiry.ts). `stillHeld` turning false stops it
 * before its next delete. Returns how many messages were deleted here.
 */
export type ExpiryRunner = (deleteOldest: (stillHeld: () => boolean) => Promise<number>) => Promise<number>;

type MessageRow = Tables['messages'];

/** Those of `addresses` whose copy of the message has not been released yet. */
export function notReleasedTo(entry: QuarantineEntry, addresses: string[]): string[] {
  return addresses.filter((address) => !entry.releases.some((r) => r.address === address));
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The query's conditions on messages `m`. */
function matching(query: ListQuery) {
  return (eb: ExpressionBuilder<Tables & { m: Tables['messages'] }, 'm'>) => {
    const conditions = [];
    const recipientsOf = () => eb.selectFrom('recipients as r').select(sql.lit(1).as('one')).whereRef('r.message_id', '=', 'm.id');
    const waiting = <Q extends ReturnType<typeof recipientsOf>>(q: Q) => (query.unreleased ? q.where('r.released_at', 'is', null) : q);
    if (query.addresses) {
      if (query.addresses.length === 0) return sql<SqlBool>`1 = 0`;
      conditions.push(
        eb.exists(
          waiting(
            recipientsOf().where(
              'r.address',
              'in',
              query.addresses.map((a) => a.toLowerCase()),
            ),
          ),
        ),
      );
    } else if (query.unreleased) {
      conditions.push(eb.exists(waiting(recipientsOf())));
    }
    if (query.reason) conditions.push(eb('m.reason', '=', query.reason));
    if (query.receivedAfter !== undefined) conditions.push(eb('m.received_at', '>', query.receivedAfter));
    if (query.receivedFrom !== undefined) conditions.push(eb('m.received_at', '>=', query.receivedFrom));
    if (query.receivedBefore !== undefined) conditions.push(eb('m.received_at', '<', query.receivedBefore));
    if (query.search) {
      // lower() on both sides: SQLite's LIKE ignores case, PostgreSQL's does not.
      const like = `%${escapeLike(query.search.toLowerCase())}%`;
      conditions.push(
        eb.or(['m.subject', 'm.header_from', 'm.header_to'].map((column) => eb(sql`lower(${sql.ref(column)})`, 'like', sql`${like} ESCAPE ${'\\'}`))),
      );
    }
    return eb.and(conditions);
  };
}

/** How often a process sums the quarantine's size while its own additions keep it under the maximum. */
const SIZE_RECOUNT_MS = 60_000;

export class QuarantineStore {
  /** Outcome counts not yet written: one durable write per message would cap throughput. */
  private pendingOutcomes = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** The size last summed, plus what this process kept since (mayBeOverMax). */
  private sizeSeen: { bytes: number; at: number } | null = null;

  private constructor(
    private readonly db: Kysely<Tables>,
    private readonly bodies: MessageBodies,
    private readonly maxBytes: number,
    /** Ends the database handle, when the store opened it. */
    private readonly closeDatabase: () => Promise<void>,
    private readonly runExpiry: ExpiryRunner = (trim) => trim(() => true),
  ) {}

  /** One appliance's quarantine: files and index.sqlite in `dir`. */
  static open(dir: string, maxSizeMb: number): QuarantineStore {
    mkdirSync(join(dir, 'messages'), { recursive: true, mode: 0o750 });
    const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: openQuarantineDatabase(dir) }) });
    return new QuarantineStore(db, fileBodies(dir), maxSizeMb * 1024 * 1024, () => db.destroy());
  }

  /**
   * The quarantine several appliances share, index and messages in the shared database (migrated);
   * `closeDatabase` is called by close(), when the store is the handle's only user.
   */
  static shared(
    db: Kysely<SharedTables>,
    maxSizeMb: number,
    closeDatabase: () => Promise<void> = () => Promise.resolve(),
    runExpiry?: ExpiryRunner,
  ): QuarantineStore {
    return new QuarantineStore(db as unknown as Kysely<Tables>, databaseBodies(db), maxSizeMb * 1024 * 1024, closeDatabase, runExpiry);
  }

  async close(): Promise<void> {
    await this.flushOutcomes();
    await this.closeDatabase();
  }

  /** Keeps the spooled message, durably, then indexes it. Throws (ENOSPC, EIO, database down) before indexing. */
  async add(spoolPath: string, input: QuarantineInput): Promise<QuarantineEntry> {
    const addresses = [...new Set(input.recipients.map((r) => r.toLowerCase()))];
    const path = await this.keep(spoolPath, input, addresses, []);
    if (this.sizeSeen) this.sizeSeen.bytes += input.size;
    if (await this.mayBeOverMax()) await this.enforceMaxSize();
    return { ...input, recipients: addresses, receivedAt: input.receivedAt.getTime(), path, releases: [] };
  }

  /** The bytes, then in one transaction the row, its recipients (with their releases) and what commits with them. */
  private async keep(spoolPath: string, input: QuarantineInput, addresses: string[], releases: RecipientRelease[]): Promise<string> {
    const path = await this.bodies.keep(spoolPath, input.id, input.receivedAt);
    const releaseOf = (address: string) => releases.find((r) => r.address === address);
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('messages')
          .values({
            id: input.id,
            received_at: input.receivedAt.getTime(),
            mail_from: input.mailFrom,
            header_from: input.headerFrom,
            header_to: input.headerTo,
            subject: input.subject,
            reason: input.reason,
            detail: input.detail,
            score: scoreInDetail(input.detail),
            size: input.size,
            path,
          })
          .execute();
        if (addresses.length > 0)
          await trx
            .insertInto('recipients')
            .values(
              addresses.map((address) => ({
                message_id: input.id,
                address,
                released_at: releaseOf(address)?.at ?? null,
                released_by: releaseOf(address)?.by ?? null,
              })),
            )
            .execute();
        await this.bodies.keepWithRow(trx, input.id, spoolPath);
      });
    } catch (err) {
      await this.bodies.discard(path).catch(() => undefined);
      throw err;
    }
    return path;
  }

  /**
   * Copies in every message of `from` this store lacks, oldest first, with its recipients and their
   * releases, then the daily counts of days this store has none for. Run again after an
   * interruption, it carries on where it stopped.
   */
  async copyFrom(from: QuarantineStore, progress: (done: number, total: number) => void = () => undefined): Promise<{ copied: number; present: number }> {
    const total = await from.count();
    let copied = 0;
    let present = 0;
    for (let offset = 0; offset < total; offset += 200) {
      for (const entry of await from.list({ sort: { by: 'date', descending: false }, limit: 200, offset })) {
        if (await this.get(entry.id)) present += 1;
        else {
          const file = await from.localFile(entry);
          try {
            await this.keep(file.path, { ...entry, receivedAt: new Date(entry.receivedAt) }, entry.recipients, entry.releases);
          } finally {
            await file.done();
          }
          copied += 1;
        }
        progress(copied + present, total);
      }
    }
    for (const table of ['daily_outcomes', 'door_daily'] as const) {
      const rows = await from.db.selectFrom(table).selectAll().execute();
      if (rows.length > 0)
        await this.db
          .insertInto(table)
          .values(rows)
          .onConflict((oc) => oc.doNothing())
          .execute();
    }
    return { copied, present };
  }

  async totalBytes(): Promise<number> {
    const row = await this.db
      .selectFrom('messages')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), sql<number>`0`).as('total'))
      .executeTakeFirstOrThrow();
    return Number(row.total);
  }

  get limitBytes(): number {
    return this.maxBytes;
  }

  /**
   * Deletes the oldest messages until the quarantine fits its maximum size. Several appliances
   * sharing it do this once, on the node that holds the expiry lease (see runExpiry).
   */
  async enforceMaxSize(): Promise<number> {
    if ((await this.totalBytes()) <= this.maxBytes) return 0;
    this.sizeSeen = null;
    return this.runExpiry((stillHeld) => this.deleteOldest(stillHeld));
  }

  /**
   * Whether the quarantine may have outgrown its maximum since its size was last summed. Summing
   * scans every row, so it is done at most once a SIZE_RECOUNT_MS per process, and in between this
   * process's own additions are counted on: another process's (the cluster's other nodes) can make
   * the quarantine exceed its maximum by that long's held mail before it is trimmed.
   */
  private async mayBeOverMax(now = Date.now()): Promise<boolean> {
    if (this.sizeSeen && now - this.sizeSeen.at < SIZE_RECOUNT_MS && this.sizeSeen.bytes <= this.maxBytes) return false;
    this.sizeSeen = { bytes: await this.totalBytes(), at: now };
    return this.sizeSeen.bytes > this.maxBytes;
  }

  private async deleteOldest(stillHeld: () => boolean): Promise<number> {
    let total = await this.totalBytes();
    if (total <= this.maxBytes) return 0;
    // Oldest first, a page at a time (PostgreSQL streams only with a cursor package).
    const victims: string[] = [];
    for (let offset = 0; total > this.maxBytes; offset += 500) {
      const page = await this.db
        .selectFrom('messages')
        .select(['id', 'size'])
        .orderBy('received_at', 'asc')
        .orderBy('id', 'asc')
        .limit(500)
        .offset(offset)
        .execute();
      if (page.length === 0) break;
      for (const row of page) {
        if (total <= this.maxBytes) break;
        victims.push(row.id);
        total -= row.size;
      }
    }
    let removed = 0;
    for (const id of victims) {
      if (!stillHeld()) break;
      if (await this.delete(id)) removed += 1;
    }
    return removed;
  }

  private selectMessages(query: ListQuery): MessageQuery {
    return this.db.selectFrom('messages as m').where(matching(query)) as unknown as MessageQuery;
  }

  async list(query: ListQuery = {}): Promise<QuarantineEntry[]> {
    const rows = await ordered(this.selectMessages(query), query.sort)
      .selectAll('m')
      .limit(query.limit ?? 50)
      .offset(query.offset ?? 0)
      .execute();
    return this.withRecipients(rows as MessageRow[]);
  }

  async count(query: ListQuery = {}): Promise<number> {
    const row = await this.selectMessages(query)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async get(id: string): Promise<QuarantineEntry | undefined> {
    const row = await this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? (await this.withRecipients([row]))[0] : undefined;
  }

  /** Each row with its recipients and who of them got it released, in one more query. */
  private async withRecipients(rows: MessageRow[]): Promise<QuarantineEntry[]> {
    if (rows.length === 0) return [];
    const recipients = await this.db
      .selectFrom('recipients')
      .selectAll()
      .where(
        'message_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('message_id')
      .orderBy('address')
      .execute();
    const byMessage = new Map<string, Array<Tables['recipients']>>();
    for (const r of recipients) byMessage.set(r.message_id, [...(byMessage.get(r.message_id) ?? []), r]);
    return rows.map((row) => toEntry(row, byMessage.get(row.id) ?? []));
  }

  openMessage(entry: QuarantineEntry): Readable {
    return this.bodies.open(entry);
  }

  /** A file with the message, for readers that need one; call done() when finished with it. */
  localFile(entry: QuarantineEntry): Promise<LocalFile> {
    return this.bodies.localFile(entry);
  }

  /** The message's own file: only a single appliance's quarantine has one. */
  filePath(entry: QuarantineEntry): string {
    return this.bodies.filePath(entry);
  }

  /** Marks the message released to these recipients only; the others' copies still wait. */
  async markReleased(id: string, addresses: string[], by: string): Promise<void> {
    if (addresses.length === 0) return;
    await this.db.updateTable('recipients').set({ released_at: Date.now(), released_by: by }).where(recipientsOf(id, addresses)).execute();
  }

  /** Removes the row first: bytes without a row are harmless, a row without its bytes is not. */
  async delete(id: string): Promise<boolean> {
    const row = await this.db.deleteFrom('messages').where('id', '=', id).returning(['id', 'path']).executeTakeFirst();
    if (!row) return false;
    await this.bodies.remove(row);
    return true;
  }

  /** Takes addresses off a message; the message goes when no recipient is left. */
  async removeRecipients(id: string, addresses: string[]): Promise<void> {
    if (addresses.length > 0) await this.db.deleteFrom('recipients').where(recipientsOf(id, addresses)).execute();
    const left = await this.db
      .selectFrom('recipients')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('message_id', '=', id)
      .executeTakeFirstOrThrow();
    if (Number(left.n) === 0) await this.delete(id);
  }

  async deleteMatching(query: ListQuery): Promise<number> {
    const ids = (await this.selectMessages(query).select('m.id').execute()).map((r) => r.id);
    for (const id of ids) await this.delete(id);
    return ids.length;
  }

  /** Counts a filtered message for the statistics; written every few seconds, and on close. */
  recordOutcome(outcome: Outcome, at = new Date()): void {
    const key = `${utcDay(at)}|${outcome}`;
    this.pendingOutcomes.set(key, (this.pendingOutcomes.get(key) ?? 0) + 1);
    this.flushTimer ??= setTimeout(() => void this.flushOutcomes().catch(() => undefined), 5000).unref();
  }

  /** Writes the counts so far; a failed write puts them back for the next try. */
  flushOutcomes(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.pendingOutcomes.size === 0) return this.flushing;
    const pending = this.pendingOutcomes;
    this.pendingOutcomes = new Map();
    const rows = [...pending].map(([key, count]) => {
      const [day, outcome] = key.split('|') as [string, string];
      return { day, outcome, count };
    });
    this.flushing = this.flushing.then(() =>
      this.db
        .insertInto('daily_outcomes')
        .values(rows)
        .onConflict((oc) => oc.columns(['day', 'outcome']).doUpdateSet({ count: sql`daily_outcomes.count + excluded.count` }))
        .execute()
        .then(
          () => undefined,
          (err: unknown) => {
            for (const [key, count] of pending) this.pendingOutcomes.set(key, (this.pendingOutcomes.get(key) ?? 0) + count);
            throw err;
          },
        ),
    );
    return this.flushing;
  }

  async dailyOutcomes(sinceDay: string): Promise<Array<{ day: string; outcome: Outcome; count: number }>> {
    await this.flushOutcomes();
    const rows = await this.db.selectFrom('daily_outcomes').select(['day', 'outcome', 'count']).where('day', '>=', sinceDay).orderBy('day').execute();
    return rows.map((r) => ({ day: r.day, outcome: r.outcome as Outcome, count: Number(r.count) }));
  }

  /** What the front door refused, and greylisting's answers, per day (written by door-stats and the policy service). */
  async dailyDoor(sinceDay: string): Promise<Array<{ day: string; kind: DoorKind; count: number }>> {
    const rows = await this.db.selectFrom('door_daily').select(['day', 'kind', 'count']).where('day', '>=', sinceDay).orderBy('day').orderBy('kind').execute();
    return rows.map((r) => ({ day: r.day, kind: r.kind as DoorKind, count: Number(r.count) }));
  }
}

/** These recipients' rows of one message (addresses compared as stored, in lower case). */
function recipientsOf(id: string, addresses: string[]) {
  return (eb: ExpressionBuilder<Tables, 'recipients'>) =>
    eb.and([
      eb('message_id', '=', id),
      eb(
        'address',
        'in',
        addresses.map((a) => a.toLowerCase()),
      ),
    ]);
}

function toEntry(row: MessageRow, recipients: Array<Tables['recipients']>): QuarantineEntry {
  return {
    id: row.id,
    receivedAt: row.received_at,
    mailFrom: row.mail_from,
    recipients: recipients.map((r) => r.address),
    headerFrom: row.header_from,
    headerTo: row.header_to,
    subject: row.subject,
    reason: row.reason as Category,
    detail: row.detail,
    size: row.size,
    path: row.path,
    releases: recipients.filter((r) => r.released_at !== null).map((r) => ({ address: r.address, at: r.released_at!, by: r.released_by ?? '' })),
  };
}
