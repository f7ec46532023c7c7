// The quarantine: one file per message, fsync'd (file and folder) before its SQLite row is written,
// so a row always points at a message that is on disk. The viewer, release and statistics read it
// through this API only.
import type Database from 'better-sqlite3';
import { copyFile, mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import { constants, createReadStream, mkdirSync, type ReadStream } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Category } from '../config/schema.js';
import { openQuarantineDatabase } from '../storage/quarantine-db.js';
import { utcDay } from '../time/utc.js';
import type { DoorKind } from '../door-stats/door-kinds.js';

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

/**
 * What each sort key orders by. The spam score is only kept inside the detail ("score=12.3
 * required=5"): CAST reads the number at its start; messages without one sort after the others.
 */
const SORT_EXPRESSIONS: Record<SortKey, string> = {
  date: 'm.received_at',
  from: "lower(CASE WHEN m.header_from <> '' THEN m.header_from ELSE m.mail_from END)",
  subject: 'lower(m.subject)',
  reason: 'm.reason',
  score: "CASE WHEN instr(m.detail, 'score=') > 0 THEN CAST(substr(m.detail, instr(m.detail, 'score=') + 6) AS REAL) END",
  size: 'm.size',
};

function orderBy(sort: ListSort | undefined): string {
  if (!sort || sort.by === 'date') return sort && !sort.descending ? 'ORDER BY m.received_at ASC, m.id ASC' : 'ORDER BY m.received_at DESC, m.id DESC';
  const expression = SORT_EXPRESSIONS[sort.by];
  return `ORDER BY (${expression}) IS NULL, ${expression} ${sort.descending ? 'DESC' : 'ASC'}, m.received_at DESC, m.id DESC`;
}

export type Outcome = 'CLEAN' | Category;

interface MessageRow {
  id: string;
  received_at: number;
  mail_from: string;
  header_from: string;
  header_to: string;
  subject: string;
  reason: Category;
  detail: string;
  size: number;
  path: string;
  recipients: string;
  releases: string;
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Those of `addresses` whose copy of the message has not been released yet. */
export function notReleasedTo(entry: QuarantineEntry, addresses: string[]): string[] {
  return addresses.filter((address) => !entry.releases.some((r) => r.address === address));
}

/** The columns every entry is read with: its recipients and, as JSON, who of them got it released. */
const ENTRY_COLUMNS = `m.*, (SELECT group_concat(address, ' ') FROM recipients WHERE message_id = m.id) AS recipients,
  (SELECT json_group_array(json_object('address', address, 'at', released_at, 'by', released_by)) FROM recipients
   WHERE message_id = m.id AND released_at IS NOT NULL) AS releases`;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export class QuarantineStore {
  private readonly db: Database.Database;
  /** Outcome counts not yet written: one fsync'd write per message would cap throughput. */
  private pendingOutcomes = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | null = null;

  private constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {
    mkdirSync(join(dir, 'messages'), { recursive: true, mode: 0o750 });
    this.db = openQuarantineDatabase(dir);
  }

  static open(dir: string, maxSizeMb: number): QuarantineStore {
    return new QuarantineStore(dir, maxSizeMb * 1024 * 1024);
  }

  close(): void {
    this.flushOutcomes();
    this.db.close();
  }

  /** Copies the spooled message in, durably, then indexes it. Throws (ENOSPC, EIO) before indexing. */
  async add(spoolPath: string, input: QuarantineInput): Promise<QuarantineEntry> {
    const day = utcDay(input.receivedAt);
    const dayDir = join(this.dir, 'messages', day);
    const created = await mkdir(dayDir, { recursive: true, mode: 0o750 });
    const finalPath = join(dayDir, `${input.id}.eml`);
    const tempPath = `${finalPath}.tmp`;
    try {
      await copyFile(spoolPath, tempPath, constants.COPYFILE_EXCL);
      await fsyncPath(tempPath);
      await rename(tempPath, finalPath);
    } catch (err) {
      await unlink(tempPath).catch(() => undefined);
      throw err;
    }
    await fsyncPath(dayDir);
    if (created) await fsyncPath(dirname(dayDir));

    const path = relative(this.dir, finalPath);
    const addresses = [...new Set(input.recipients.map((r) => r.toLowerCase()))];
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO messages (id, received_at, mail_from, header_from, header_to, subject, reason, detail, size, path)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.id,
          input.receivedAt.getTime(),
          input.mailFrom,
          input.headerFrom,
          input.headerTo,
          input.subject,
          input.reason,
          input.detail,
          input.size,
          path,
        );
      const insertRecipient = this.db.prepare('INSERT INTO recipients (message_id, address) VALUES (?, ?)');
      for (const address of addresses) insertRecipient.run(input.id, address);
    })();
    await this.enforceMaxSize();
    return { ...input, recipients: addresses, receivedAt: input.receivedAt.getTime(), path, releases: [] };
  }

  totalBytes(): number {
    return this.db.prepare<[], { total: number }>('SELECT COALESCE(SUM(size), 0) AS total FROM messages').get()!.total;
  }

  get limitBytes(): number {
    return this.maxBytes;
  }

  /** Deletes the oldest messages until the quarantine fits its maximum size. */
  async enforceMaxSize(): Promise<number> {
    let total = this.totalBytes();
    let removed = 0;
    if (total <= this.maxBytes) return 0;
    const oldest = this.db.prepare<[], { id: string; size: number }>('SELECT id, size FROM messages ORDER BY received_at ASC, id ASC').iterate();
    const victims: string[] = [];
    for (const row of oldest) {
      if (total <= this.maxBytes) break;
      victims.push(row.id);
      total -= row.size;
    }
    for (const id of victims) if (await this.delete(id)) removed += 1;
    return removed;
  }

  private where(query: ListQuery): { sql: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const waiting = query.unreleased ? ' AND r.released_at IS NULL' : '';
    if (query.addresses) {
      if (query.addresses.length === 0) return { sql: 'WHERE 0', params };
      clauses.push(`EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.address IN (${query.addresses.map(() => '?').join(',')})${waiting})`);
      params.push(...query.addresses.map((a) => a.toLowerCase()));
    } else if (waiting) {
      clauses.push(`EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id${waiting})`);
    }
    if (query.reason) {
      clauses.push('m.reason = ?');
      params.push(query.reason);
    }
    if (query.receivedAfter !== undefined) {
      clauses.push('m.received_at > ?');
      params.push(query.receivedAfter);
    }
    if (query.receivedFrom !== undefined) {
      clauses.push('m.received_at >= ?');
      params.push(query.receivedFrom);
    }
    if (query.receivedBefore !== undefined) {
      clauses.push('m.received_at < ?');
      params.push(query.receivedBefore);
    }
    if (query.search) {
      const like = `%${escapeLike(query.search)}%`;
      clauses.push("(m.subject LIKE ? ESCAPE '\\' OR m.header_from LIKE ? ESCAPE '\\' OR m.header_to LIKE ? ESCAPE '\\')");
      params.push(like, like, like);
    }
    return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  list(query: ListQuery = {}): QuarantineEntry[] {
    const { sql, params } = this.where(query);
    const rows = this.db
      .prepare<unknown[], MessageRow>(`SELECT ${ENTRY_COLUMNS} FROM messages m ${sql} ${orderBy(query.sort)} LIMIT ? OFFSET ?`)
      .all(...params, query.limit ?? 50, query.offset ?? 0);
    return rows.map(toEntry);
  }

  count(query: ListQuery = {}): number {
    const { sql, params } = this.where(query);
    return this.db.prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM messages m ${sql}`).get(...params)!.n;
  }

  get(id: string): QuarantineEntry | undefined {
    const row = this.db.prepare<[string], MessageRow>(`SELECT ${ENTRY_COLUMNS} FROM messages m WHERE m.id = ?`).get(id);
    return row ? toEntry(row) : undefined;
  }

  openMessage(entry: QuarantineEntry): ReadStream {
    return createReadStream(join(this.dir, entry.path));
  }

  filePath(entry: QuarantineEntry): string {
    return join(this.dir, entry.path);
  }

  /** Marks the message released to these recipients only; the others' copies still wait. */
  markReleased(id: string, addresses: string[], by: string): void {
    const mark = this.db.prepare('UPDATE recipients SET released_at = ?, released_by = ? WHERE message_id = ? AND address = ?');
    const at = Date.now();
    this.db.transaction(() => {
      for (const address of addresses) mark.run(at, by, id, address.toLowerCase());
    })();
  }

  /** Removes the row first: a file without a row is harmless, a row without a file is not. */
  async delete(id: string): Promise<boolean> {
    const row = this.db.prepare<[string], { path: string }>('SELECT path FROM messages WHERE id = ?').get(id);
    if (!row) return false;
    this.db.prepare('DELETE FROM messages WHERE id = ?').run(id);
    await rm(join(this.dir, row.path), { force: true });
    return true;
  }

  /** Takes addresses off a message; the message goes when no recipient is left. */
  async removeRecipients(id: string, addresses: string[]): Promise<void> {
    const remove = this.db.prepare('DELETE FROM recipients WHERE message_id = ? AND address = ?');
    for (const address of addresses) remove.run(id, address.toLowerCase());
    const left = this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM recipients WHERE message_id = ?').get(id)!.n;
    if (left === 0) await this.delete(id);
  }

  async deleteMatching(query: ListQuery): Promise<number> {
    const { sql, params } = this.where(query);
    const ids = this.db
      .prepare<unknown[], { id: string }>(`SELECT m.id FROM messages m ${sql}`)
      .all(...params)
      .map((r) => r.id);
    for (const id of ids) await this.delete(id);
    return ids.length;
  }

  /** Counts a filtered message for the statistics; written every few seconds, and on close. */
  recordOutcome(outcome: Outcome, at = new Date()): void {
    const key = `${utcDay(at)}|${outcome}`;
    this.pendingOutcomes.set(key, (this.pendingOutcomes.get(key) ?? 0) + 1);
    this.flushTimer ??= setTimeout(() => this.flushOutcomes(), 5000).unref();
  }

  flushOutcomes(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.pendingOutcomes.size === 0) return;
    const pending = this.pendingOutcomes;
    this.pendingOutcomes = new Map();
    const upsert = this.db.prepare(
      'INSERT INTO daily_outcomes (day, outcome, count) VALUES (?, ?, ?) ON CONFLICT(day, outcome) DO UPDATE SET count = count + excluded.count',
    );
    this.db.transaction(() => {
      for (const [key, count] of pending) {
        const [day, outcome] = key.split('|');
        upsert.run(day, outcome, count);
      }
    })();
  }

  dailyOutcomes(sinceDay: string): Array<{ day: string; outcome: Outcome; count: number }> {
    this.flushOutcomes();
    return this.db
      .prepare<[string], { day: string; outcome: Outcome; count: number }>('SELECT day, outcome, count FROM daily_outcomes WHERE day >= ? ORDER BY day')
      .all(sinceDay);
  }

  /** What the front door refused, and greylisting's answers, per day (written by door-stats and the policy service). */
  dailyDoor(sinceDay: string): Array<{ day: string; kind: DoorKind; count: number }> {
    return this.db
      .prepare<[string], { day: string; kind: DoorKind; count: number }>('SELECT day, kind, count FROM door_daily WHERE day >= ? ORDER BY day, kind')
      .all(sinceDay);
  }
}

function toEntry(row: MessageRow): QuarantineEntry {
  return {
    id: row.id,
    receivedAt: row.received_at,
    mailFrom: row.mail_from,
    recipients: row.recipients ? row.recipients.split(' ') : [],
    headerFrom: row.header_from,
    headerTo: row.header_to,
    subject: row.subject,
    reason: row.reason,
    detail: row.detail,
    size: row.size,
    path: row.path,
    releases: row.releases ? (JSON.parse(row.releases) as RecipientRelease[]) : [],
  };
}
