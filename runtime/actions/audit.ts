// The audit log: every action on the quarantine and the lists, with who, when, what and from where.
// Only ever appended to; the administrator reads it in the console.
import type Database from 'better-sqlite3';

export interface AuditInput {
  /** A user name, "digest link (alice)" for token actions, or "system". */
  actor: string;
  action: string;
  messageId?: string;
  detail?: string;
  /** The client's address, or "appliance" for the appliance's own work. */
  client: string;
}

export interface AuditRecord extends Required<AuditInput> {
  id: number;
  at: number;
}

/** How the log names a user acting through a digest link, so a search for the user finds those too. */
export const viaLink = (username: string) => `${username} (digest link)`;

/** A message id, an actor (also the user's link actions) or an action. */
const SEARCH = `WHERE message_id = @q OR actor = @q OR actor = @q || '${viaLink('')}' OR action = @q`;

/** How long repeated junk of one kind from one client makes one audit row. */
const THROTTLE_WINDOW_MS = 10 * 60_000;
const THROTTLE_KEYS_KEPT = 10_000;

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  message_id: string;
  detail: string;
  client: string;
}

export class AuditLog {
  /** Per key: when its last row was written, and how many like it were left out since. */
  private readonly throttled = new Map<string, { since: number; leftOut: number }>();

  constructor(private readonly db: Database.Database) {}

  record(input: AuditInput): void {
    this.db
      .prepare('INSERT INTO audit (at, actor, action, message_id, detail, client) VALUES (?, ?, ?, ?, ?, ?)')
      .run(Date.now(), input.actor, input.action, input.messageId ?? '', (input.detail ?? '').slice(0, 1000), input.client);
  }

  /**
   * Like record, but one row per key (a kind of junk from one client) and window: 300 junk link
   * GETs make one row, and the next row of that key says how many were left out before it.
   */
  recordThrottled(key: string, input: AuditInput, now = Date.now()): void {
    const seen = this.throttled.get(key);
    if (seen && now - seen.since < THROTTLE_WINDOW_MS) {
      seen.leftOut += 1;
      return;
    }
    if (this.throttled.size >= THROTTLE_KEYS_KEPT) this.throttled.clear();
    this.throttled.set(key, { since: now, leftOut: 0 });
    const note = seen?.leftOut ? ` (and ${seen.leftOut} more like it before, not recorded one by one)` : '';
    this.record({ ...input, detail: `${input.detail ?? ''}${note}` });
  }

  /** Newest first; `search` narrows to a message id, an actor or an action. */
  list(options: { limit: number; offset: number; search?: string }): AuditRecord[] {
    const where = options.search ? SEARCH : '';
    return this.db
      .prepare<[Record<string, unknown>], AuditRow>(
        `SELECT id, at, actor, action, message_id, detail, client FROM audit ${where} ORDER BY at DESC, id DESC LIMIT @limit OFFSET @offset`,
      )
      .all({ limit: options.limit, offset: options.offset, ...(options.search ? { q: options.search } : {}) })
      .map((r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, messageId: r.message_id, detail: r.detail, client: r.client }));
  }

  count(search?: string): number {
    return this.db
      .prepare<[Record<string, unknown>], { n: number }>(`SELECT COUNT(*) AS n FROM audit ${search ? SEARCH : ''}`)
      .get(search ? { q: search } : {})!.n;
  }
}
