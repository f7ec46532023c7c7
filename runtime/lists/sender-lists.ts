// Allow and block lists of senders, per viewer user and global (the administrator's). They live in
// the viewer's database (storage/viewer-db.ts: viewer.sqlite, or the shared PostgreSQL) beside the
// users and their addresses; the filter reads them read-only.
//
// Which entry counts: the most specific one. A user's own entry beats a global one, an exact
// address beats *@domain, and at equal rank block beats allow.
import type { Selectable } from 'kysely';
import { isEmailAddress } from '../mail/address.js';
import { LIST_AND_PATTERN, type ViewerDatabase, type ViewerTables } from '../storage/viewer-db.js';

export type ListKind = 'allow' | 'block';

export interface ListEntry {
  id: number;
  /** null: the global list. */
  ownerId: number | null;
  ownerName: string | null;
  kind: ListKind;
  /** A lower-case address, or *@domain. */
  pattern: string;
  expiresAt: number | null;
  createdBy: string;
  createdAt: number;
}

export interface ListMatch {
  kind: ListKind;
  pattern: string;
  /** Whose list: a user name, or "global". */
  list: string;
  /** The sender address that matched. */
  sender: string;
}

/** The words a verdict carries when a list entry decided it; the digest leaves blocked mail out by them. */
export function listNote(match: ListMatch): string {
  return `sender ${match.sender} ${match.kind === 'block' ? 'blocked' : 'allowed'} (${match.list} list: ${match.pattern})`;
}

export const isBlockedNote = (detail: string) => /^sender \S+ blocked \(/.test(detail);

const DOMAIN_PATTERN = /^\*@[a-z0-9-]+(\.[a-z0-9-]+)+$/;

/** The list a user's entries go on: the administrator's are the global one (null), a user's their own. */
export const listOwnerOf = (user: { id: number; isAdmin: boolean }): number | null => (user.isAdmin ? null : user.id);

/** Whose list an entry is on, for a sentence: "the global" (… allow list) or the user's name. */
export const listNameOf = (entry: { ownerName: string | null }): string => entry.ownerName ?? 'the global';

/** A list pattern as typed by a user, normalised; null when it is neither an address nor *@domain. */
export function normalisePattern(input: string): string | null {
  const value = input.trim().toLowerCase();
  if (DOMAIN_PATTERN.test(value)) return value;
  if (value.startsWith('@') && DOMAIN_PATTERN.test(`*${value}`)) return `*${value}`;
  return isEmailAddress(value) ? value : null;
}

/** The patterns that would match a sender: the address itself and its domain. */
export function patternsFor(sender: string): string[] {
  const address = sender.trim().toLowerCase();
  const at = address.lastIndexOf('@');
  if (at < 1) return [];
  return [address, `*@${address.slice(at + 1)}`];
}

/** The sender addresses the lists are matched against: the envelope sender and the From: address. */
export function sendersOf(mailFrom: string, fromHeader: string): string[] {
  const angle = /<([^<>\s]+@[^<>\s]+)>/.exec(fromHeader);
  const bare = /([^\s<>"(),;:]+@[^\s<>"(),;:]+)/.exec(fromHeader);
  const from = (angle?.[1] ?? bare?.[1] ?? '').toLowerCase();
  return [...new Set([mailFrom.toLowerCase(), from].filter((a) => a.includes('@')))];
}

interface Candidate {
  kind: ListKind;
  pattern: string;
  owner_id: number | null;
  owner_name: string | null;
}

/** Picks the deciding entry among those that match, by the rule at the top of this file. */
export function strongest(candidates: Candidate[], senders: string[]): ListMatch | null {
  let best: { rank: number; candidate: Candidate } | null = null;
  for (const candidate of candidates) {
    const rank = (candidate.owner_id !== null ? 4 : 0) + (candidate.pattern.startsWith('*@') ? 0 : 2) + (candidate.kind === 'block' ? 1 : 0);
    if (!best || rank > best.rank) best = { rank, candidate };
  }
  if (!best) return null;
  const { candidate } = best;
  const sender = senders.find((s) => patternsFor(s).includes(candidate.pattern)) ?? senders[0] ?? '';
  return { kind: candidate.kind, pattern: candidate.pattern, list: candidate.owner_name ?? 'global', sender };
}

/** The entry deciding for mail from these senders to this recipient, or null. */
export async function findMatch(db: ViewerDatabase, recipient: string, senders: string[], now = Date.now()): Promise<ListMatch | null> {
  const patterns = [...new Set(senders.flatMap(patternsFor))];
  if (patterns.length === 0) return null;
  const rows = await db
    .selectFrom('sender_lists as l')
    .leftJoin('users as u', 'u.id', 'l.owner_id')
    .select(['l.kind', 'l.pattern', 'l.owner_id', 'u.username as owner_name'])
    .where((eb) =>
      eb.and([
        eb.or([eb('l.expires_at', 'is', null), eb('l.expires_at', '>', now)]),
        eb('l.pattern', 'in', patterns),
        eb.or([
          eb('l.owner_id', 'is', null),
          eb('l.owner_id', '=', eb.selectFrom('addresses').select('user_id').where('address', '=', recipient.toLowerCase())),
        ]),
      ]),
    )
    .execute();
  return strongest(rows, senders);
}

const toEntry = (r: Selectable<ViewerTables['sender_lists']> & { owner_name: string | null }): ListEntry => ({
  id: r.id,
  ownerId: r.owner_id,
  ownerName: r.owner_name,
  kind: r.kind,
  pattern: r.pattern,
  expiresAt: r.expires_at,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

export class SenderLists {
  constructor(private readonly db: ViewerDatabase) {}

  private entries() {
    return this.db
      .selectFrom('sender_lists as l')
      .leftJoin('users as u', 'u.id', 'l.owner_id')
      .selectAll('l')
      .select('u.username as owner_name')
      .orderBy('l.created_at', 'desc')
      .orderBy('l.id', 'desc');
  }

  /** Entries of one user's list, or of the global list (ownerId null), newest first. */
  async list(ownerId: number | null): Promise<ListEntry[]> {
    const rows = await this.entries()
      .where('l.owner_id', ownerId === null ? 'is' : '=', ownerId)
      .execute();
    return rows.map(toEntry);
  }

  async get(id: number): Promise<ListEntry | undefined> {
    const row = await this.entries().where('l.id', '=', id).executeTakeFirst();
    return row && toEntry(row);
  }

  /**
   * Adds an entry, replacing the same pattern on the same list (allow after block, or a new expiry).
   * One statement, so two nodes adding it at once leave one entry (the later add's).
   */
  async add(input: { ownerId: number | null; kind: ListKind; pattern: string; expiresAt: number | null; createdBy: string }): Promise<ListEntry> {
    const pattern = normalisePattern(input.pattern);
    if (!pattern) throw new Error(`not an address or *@domain: ${input.pattern}`);
    const { id } = await this.db
      .insertInto('sender_lists')
      .values({ owner_id: input.ownerId, kind: input.kind, pattern, expires_at: input.expiresAt, created_by: input.createdBy, created_at: Date.now() })
      .onConflict((oc) =>
        oc.expression(LIST_AND_PATTERN).doUpdateSet((eb) => ({
          kind: eb.ref('excluded.kind'),
          expires_at: eb.ref('excluded.expires_at'),
          created_by: eb.ref('excluded.created_by'),
          created_at: eb.ref('excluded.created_at'),
        })),
      )
      .returning('id')
      .executeTakeFirstOrThrow();
    return (await this.get(id))!;
  }

  async remove(id: number): Promise<void> {
    await this.db.deleteFrom('sender_lists').where('id', '=', id).execute();
  }

  match(recipient: string, senders: string[], now = Date.now()): Promise<ListMatch | null> {
    return findMatch(this.db, recipient, senders, now);
  }
}
