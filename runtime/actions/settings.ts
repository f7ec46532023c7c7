// Settings the administrator changes in the console, kept in the viewer's database: the default
// digest frequency and the categories users may release themselves. Each user may override the
// digest frequency.
import type Database from 'better-sqlite3';
import { CATEGORIES, type Category } from '../config/schema.js';

export const DIGEST_FREQUENCIES = ['off', 'daily', 'weekly'] as const;
export type DigestFrequency = (typeof DIGEST_FREQUENCIES)[number];

export interface AdminSettings {
  digestFrequency: DigestFrequency;
  /** Categories a user releases without asking; the others become release requests. */
  selfRelease: Category[];
}

export const DEFAULT_SETTINGS: AdminSettings = { digestFrequency: 'daily', selfRelease: ['SPAM', 'BADH'] };

export const isFrequency = (value: unknown): value is DigestFrequency => (DIGEST_FREQUENCIES as readonly unknown[]).includes(value);

export class ViewerSettings {
  constructor(private readonly db: Database.Database) {}

  admin(): AdminSettings {
    const rows = this.db.prepare<[], { name: string; value: string }>('SELECT name, value FROM settings').all();
    const stored = Object.fromEntries(rows.map((r) => [r.name, r.value]));
    const frequency = stored.digestFrequency;
    const selfRelease = stored.selfRelease?.split(',').filter((c): c is Category => (CATEGORIES as readonly string[]).includes(c));
    return {
      digestFrequency: isFrequency(frequency) ? frequency : DEFAULT_SETTINGS.digestFrequency,
      selfRelease: selfRelease ?? DEFAULT_SETTINGS.selfRelease,
    };
  }

  saveAdmin(settings: AdminSettings): void {
    const upsert = this.db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value');
    this.db.transaction(() => {
      upsert.run('digestFrequency', settings.digestFrequency);
      upsert.run('selfRelease', settings.selfRelease.join(','));
    })();
  }

  /** The user's own choice, or null to follow the administrator's default. */
  userFrequency(userId: number): DigestFrequency | null {
    const row = this.db.prepare<[number], { frequency: string | null }>('SELECT frequency FROM digest_state WHERE user_id = ?').get(userId);
    return isFrequency(row?.frequency) ? row.frequency : null;
  }

  setUserFrequency(userId: number, frequency: DigestFrequency | null): void {
    this.db
      .prepare('INSERT INTO digest_state (user_id, frequency) VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE SET frequency = excluded.frequency')
      .run(userId, frequency);
  }

  effectiveFrequency(userId: number): DigestFrequency {
    return this.userFrequency(userId) ?? this.admin().digestFrequency;
  }

  lastDigestAt(userId: number): number | null {
    return (
      this.db.prepare<[number], { last_sent_at: number | null }>('SELECT last_sent_at FROM digest_state WHERE user_id = ?').get(userId)?.last_sent_at ?? null
    );
  }

  setLastDigestAt(userId: number, at: number): void {
    this.db
      .prepare('INSERT INTO digest_state (user_id, last_sent_at) VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE SET last_sent_at = excluded.last_sent_at')
      .run(userId, at);
  }
}
