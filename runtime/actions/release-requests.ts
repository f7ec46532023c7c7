// Release requests: a user asking for a message of a category they may not release themselves
// (VIRUS and BANNED by default); the administrator approves or denies.
import type Database from 'better-sqlite3';

export type RequestStatus = 'pending' | 'approved' | 'denied';

export interface ReleaseRequest {
  id: number;
  messageId: string;
  userId: number;
  username: string;
  /** The user's addresses among the message's recipients: who gets it when approved. */
  recipients: string[];
  requestedAt: number;
  status: RequestStatus;
  decidedBy: string | null;
  decidedAt: number | null;
}

interface RequestRow {
  id: number;
  message_id: string;
  user_id: number;
  username: string;
  recipients: string;
  requested_at: number;
  status: RequestStatus;
  decided_by: string | null;
  decided_at: number | null;
}

const toRequest = (r: RequestRow): ReleaseRequest => ({
  id: r.id,
  messageId: r.message_id,
  userId: r.user_id,
  username: r.username,
  recipients: r.recipients.split(' ').filter(Boolean),
  requestedAt: r.requested_at,
  status: r.status,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
});

const SELECT = 'SELECT r.*, u.username FROM release_requests r JOIN users u ON u.id = r.user_id';

export class ReleaseRequests {
  constructor(private readonly db: Database.Database) {}

  /** One open request per user and message: asking twice keeps the first. */
  request(messageId: string, userId: number, recipients: string[]): { request: ReleaseRequest; isNew: boolean } {
    const open = this.db
      .prepare<[string, number], RequestRow>(`${SELECT} WHERE r.message_id = ? AND r.user_id = ? AND r.status = 'pending'`)
      .get(messageId, userId);
    if (open) return { request: toRequest(open), isNew: false };
    const id = Number(
      this.db
        .prepare('INSERT INTO release_requests (message_id, user_id, recipients, requested_at) VALUES (?, ?, ?, ?)')
        .run(messageId, userId, recipients.join(' '), Date.now()).lastInsertRowid,
    );
    return { request: this.get(id)!, isNew: true };
  }

  get(id: number): ReleaseRequest | undefined {
    const row = this.db.prepare<[number], RequestRow>(`${SELECT} WHERE r.id = ?`).get(id);
    return row ? toRequest(row) : undefined;
  }

  pending(): ReleaseRequest[] {
    return this.db.prepare<[], RequestRow>(`${SELECT} WHERE r.status = 'pending' ORDER BY r.requested_at`).all().map(toRequest);
  }

  /** The newest request of a user for each of these messages, for the status shown beside them. */
  latestFor(userId: number | null, messageIds: string[]): Map<string, ReleaseRequest> {
    if (messageIds.length === 0) return new Map();
    const rows = this.db
      .prepare<unknown[], RequestRow>(
        `${SELECT} WHERE r.message_id IN (${messageIds.map(() => '?').join(',')}) ${userId === null ? '' : 'AND r.user_id = ?'} ORDER BY r.requested_at`,
      )
      .all(...messageIds, ...(userId === null ? [] : [userId]));
    return new Map(rows.map((r) => [r.message_id, toRequest(r)]));
  }

  /** Decides a pending request; false when it was already decided (two administrators, one click each). */
  decide(id: number, status: 'approved' | 'denied', by: string): boolean {
    return (
      this.db
        .prepare("UPDATE release_requests SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = 'pending'")
        .run(status, by, Date.now(), id).changes === 1
    );
  }

  /** Puts a request back to pending when the approved release could not be delivered. */
  reopen(id: number): void {
    this.db.prepare("UPDATE release_requests SET status = 'pending', decided_by = NULL, decided_at = NULL WHERE id = ?").run(id);
  }
}
