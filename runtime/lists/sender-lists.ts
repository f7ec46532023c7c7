// Allow and block lists of senders, per viewer user and global (the administrator's). They live in
// the viewer's database (storage/viewer-db.ts) beside the users and their addresses; the filter
// reads them read-only.
//
// Which entry counts: the most specific one. A user's own entry beats a global one, an exact
// address beats *@domain, and at equal rank block beats allow.
import type Database from 'better-sqlite3';
import { isEmailAddress } from '../mail/address.js';

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

function matchQuery(patternCount: number): string {
  return `SELECT l.kind, l.pattern, l.owner_id, u.username AS owner_name
          FROM sender_lists l LEFT JOIN users u ON u.id = l.owner_id
          WHERE (l.expires_at IS NULL OR l.expires_at > ?)
            AND l.pattern IN (${Array(patternCount).fill('?').join(',')})
            AND (l.owner_id IS NULL OR l.owner_id = (SELECT user_id FROM addresses WHERE address = ?))`;
}

/** Prepared once per database and number of patterns: the filter asks for every recipient of every message. */
const matchStatements = new WeakMap<Database.Database, Map<number, Database.Statement<unknown[], Candidate>>>();

function matchStatement(db: Database.Database, patternCount: number): Database.Statement<unknown[], Candidate> {
  let byCount = matchStatements.get(db);
  if (!byCount) matchStatements.set(db, (byCount = new Map()));
  let statement = byCount.get(patternCount);
  if (!statement) byCount.set(patternCount, (statement = db.prepare<unknown[], Candidate>(matchQuery(patternCount))));
  return statement;
}

/** The entry deciding for mail from these senders to this recipient, or null. */
export function findMatch(db: Database.Database, recipient: string, senders: string[], now = Date.now()): ListMatch | null {
  const patterns = [...new Set(senders.flatMap(patternsFor))];
  if (patterns.length === 0) return null;
  const rows = matchStatement(db, patterns.length).all(now, ...patterns, recipient.toLowerCase());
  return strongest(rows, senders);
}

interface EntryRow {
  id: number;
  owner_id: number | null;
  owner_name: string | null;
  kind: ListKind;
  pattern: string;
  expires_at: number | null;
  created_by: string;
  created_at: number;
}

export class SenderLists {
  constructor(private readonly db: Database.Database) {}

  private select(where: string, params: unknown[]): ListEntry[] {
    const rows = this.db
      .prepare<unknown[], EntryRow>(
        `SELECT l.*, u.username AS owner_name FROM sender_lists l LEFT JOIN users u ON u.id = l.owner_id
                WHERE ${where} ORDER BY l.created_at DESC, l.id DESC`,
      )
      .all(...params);
    return rows.map((r) => ({
      id: r.id,
      ownerId: r.owner_id,
      ownerName: r.owner_name,
      kind: r.kind,
      pattern: r.pattern,
      expiresAt: r.expires_at,
      createdBy: r.created_by,
      createdAt: r.created_at,
    }));
  }

  /** Entries of one user's list, or of the global list (ownerId null), newest first. */
  list(ownerId: number | null): ListEntry[] {
    return ownerId === null ? this.select('l.owner_id IS NULL', []) : this.select('l.owner_id = ?', [ownerId]);
  }

  get(id: number): ListEntry | undefined {
    return this.select('l.id = ?', [id])[0];
  }

  /** Adds an entry, replacing the same pattern on the same list (allow after block, or a new expiry). */
  add(input: { ownerId: number | null; kind: ListKind; pattern: string; expiresAt: number | null; createdBy: string }): ListEntry {
    const pattern = normalisePattern(input.pattern);
    if (!pattern) throw new Error(`not an address or *@domain: ${input.pattern}`);
    const id = this.db.transaction(() => {
      this.db
        .prepare(`DELETE FROM sender_lists WHERE pattern = ? AND ${input.ownerId === null ? 'owner_id IS NULL' : 'owner_id = ?'}`)
        .run(pattern, ...(input.ownerId === null ? [] : [input.ownerId]));
      return Number(
        this.db
          .prepare('INSERT INTO sender_lists (owner_id, kind, pattern, expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(input.ownerId, input.kind, pattern, input.expiresAt, input.createdBy, Date.now()).lastInsertRowid,
      );
    })();
    return this.get(id)!;
  }

  remove(id: number): void {
    this.db.prepare('DELETE FROM sender_lists WHERE id = ?').run(id);
  }

  match(recipient: string, senders: string[], now = Date.now()): ListMatch | null {
    return findMatch(this.db, recipient, senders, now);
  }
}
