// The audit log: every action on the quarantine and the lists, with who, when, what and from where.
// Only ever appended to; the administrator reads it in the console.
import type { ExpressionBuilder } from 'kysely';
import type { ViewerDatabase, ViewerTables } from '../storage/viewer-db.js';

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
const matching = (search: string) => (eb: ExpressionBuilder<ViewerTables, 'audit'>) =>
  eb.or([eb('message_id', '=', search), eb('actor', 'in', [search, viaLink(search)]), eb('action', '=', search)]);

/** How long repeated junk of one kind from one client makes one audit row. */
const THROTTLE_WINDOW_MS = 10 * 60_000;
const THROTTLE_KEYS_KEPT = 10_000;

export class AuditLog {
  /** Per key: when its last row was written, and how many like it were left out since. */
  private readonly throttled = new Map<string, { since: number; leftOut: number }>();

  constructor(private readonly db: ViewerDatabase) {}

  async record(input: AuditInput): Promise<void> {
    await this.db
      .insertInto('audit')
      .values({
        at: Date.now(),
        actor: input.actor,
        action: input.action,
        message_id: input.messageId ?? '',
        detail: (input.detail ?? '').slice(0, 1000),
        client: input.client,
      })
      .execute();
  }

  /**
   * Like record, but one row per key (a kind of junk from one client) and window: 300 junk link
   * GETs make one row, and the next row of that key says how many were left out before it. The
   * window is this process's: each node of a cluster writes its own row per window.
   */
  async recordThrottled(key: string, input: AuditInput, now = Date.now()): Promise<void> {
    const seen = this.throttled.get(key);
    if (seen && now - seen.since < THROTTLE_WINDOW_MS) {
      seen.leftOut += 1;
      return;
    }
    if (this.throttled.size >= THROTTLE_KEYS_KEPT) this.throttled.clear();
    this.throttled.set(key, { since: now, leftOut: 0 });
    const note = seen?.leftOut ? ` (and ${seen.leftOut} more like it before, not recorded one by one)` : '';
    await this.record({ ...input, detail: `${input.detail ?? ''}${note}` });
  }

  /** Newest first; `search` narrows to a message id, an actor or an action. */
  async list(options: { limit: number; offset: number; search?: string }): Promise<AuditRecord[]> {
    let query = this.db.selectFrom('audit').select(['id', 'at', 'actor', 'action', 'message_id', 'detail', 'client']);
    if (options.search) query = query.where(matching(options.search));
    const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(options.limit).offset(options.offset).execute();
    return rows.map((r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, messageId: r.message_id, detail: r.detail, client: r.client }));
  }

  async count(search?: string): Promise<number> {
    let query = this.db.selectFrom('audit').select((eb) => eb.fn.countAll<number>().as('n'));
    if (search) query = query.where(matching(search));
    return Number((await query.executeTakeFirstOrThrow()).n);
  }
}
