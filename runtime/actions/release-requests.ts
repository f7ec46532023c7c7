// Release requests: a user asking for a message of a category they may not release themselves
// (VIRUS and BANNED by default); the administrator approves or denies.
import type { Selectable } from 'kysely';
import type { ViewerDatabase, ViewerTables } from '../storage/viewer-db.js';

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

type RequestRow = Selectable<ViewerTables['release_requests']> & { username: string };

const toRequest = (r: RequestRow): ReleaseRequest => ({
  id: r.id,
  messageId: r.message_id,
  userId: r.user_id,
  username: r.username,
  recipients: r.recipients.split(' ').filter(Boolean),
  requestedAt: r.requested_at,
  status: r.status as RequestStatus,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
});

export class ReleaseRequests {
  constructor(private readonly db: ViewerDatabase) {}

  private requests() {
    return this.db.selectFrom('release_requests as r').innerJoin('users as u', 'u.id', 'r.user_id').selectAll('r').select('u.username');
  }

  /** One open request per user and message: asking twice keeps the first. */
  async request(messageId: string, userId: number, recipients: string[]): Promise<{ request: ReleaseRequest; isNew: boolean }> {
    const open = await this.requests()
      .where('r.message_id', '=', messageId)
      .where('r.user_id', '=', userId)
      .where('r.status', '=', 'pending')
      .executeTakeFirst();
    if (open) return { request: toRequest(open), isNew: false };
    const { id } = await this.db
      .insertInto('release_requests')
      .values({ message_id: messageId, user_id: userId, recipients: recipients.join(' '), requested_at: Date.now() })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { request: (await this.get(id))!, isNew: true };
  }

  async get(id: number): Promise<ReleaseRequest | undefined> {
    const row = await this.requests().where('r.id', '=', id).executeTakeFirst();
    return row && toRequest(row);
  }

  async pending(): Promise<ReleaseRequest[]> {
    const rows = await this.requests().where('r.status', '=', 'pending').orderBy('r.requested_at').orderBy('r.id').execute();
    return rows.map(toRequest);
  }

  /** The newest request of a user for each of these messages, for the status shown beside them. */
  async latestFor(userId: number | null, messageIds: string[]): Promise<Map<string, ReleaseRequest>> {
    if (messageIds.length === 0) return new Map();
    let query = this.requests().where('r.message_id', 'in', messageIds);
    if (userId !== null) query = query.where('r.user_id', '=', userId);
    const rows = await query.orderBy('r.requested_at').orderBy('r.id').execute();
    return new Map(rows.map((r) => [r.message_id, toRequest(r)]));
  }

  /** Decides a pending request; false when it was already decided (two administrators, one click each). */
  async decide(id: number, status: 'approved' | 'denied', by: string): Promise<boolean> {
    const result = await this.db
      .updateTable('release_requests')
      .set({ status, decided_by: by, decided_at: Date.now() })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /** Puts a request back to pending when the approved release could not be delivered. */
  async reopen(id: number): Promise<void> {
    await this.db.updateTable('release_requests').set({ status: 'pending', decided_by: null, decided_at: null }).where('id', '=', id).execute();
  }
}
