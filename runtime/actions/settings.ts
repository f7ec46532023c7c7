// Settings the administrator changes in the console, kept in the viewer's database: the default
// digest frequency and the categories users may release themselves. Each user may override the
// digest frequency.
import type { ViewerDatabase } from '../storage/viewer-db.js';
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
  constructor(private readonly db: ViewerDatabase) {}

  async admin(): Promise<AdminSettings> {
    const rows = await this.db.selectFrom('settings').select(['name', 'value']).execute();
    const stored = Object.fromEntries(rows.map((r) => [r.name, r.value]));
    const frequency = stored.digestFrequency;
    const selfRelease = stored.selfRelease?.split(',').filter((c): c is Category => (CATEGORIES as readonly string[]).includes(c));
    return {
      digestFrequency: isFrequency(frequency) ? frequency : DEFAULT_SETTINGS.digestFrequency,
      selfRelease: selfRelease ?? DEFAULT_SETTINGS.selfRelease,
    };
  }

  async saveAdmin(settings: AdminSettings): Promise<void> {
    // One statement: both settings change together.
    await this.db
      .insertInto('settings')
      .values([
        { name: 'digestFrequency', value: settings.digestFrequency },
        { name: 'selfRelease', value: settings.selfRelease.join(',') },
      ])
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
      .execute();
  }

  /** The user's own choice, or null to follow the administrator's default. */
  async userFrequency(userId: number): Promise<DigestFrequency | null> {
    const row = await this.db.selectFrom('digest_state').select('frequency').where('user_id', '=', userId).executeTakeFirst();
    return isFrequency(row?.frequency) ? row.frequency : null;
  }

  async setUserFrequency(userId: number, frequency: DigestFrequency | null): Promise<void> {
    await this.db
      .insertInto('digest_state')
      .values({ user_id: userId, frequency, last_sent_at: null })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ frequency: (eb) => eb.ref('excluded.frequency') }))
      .execute();
  }

  async effectiveFrequency(userId: number): Promise<DigestFrequency> {
    return (await this.userFrequency(userId)) ?? (await this.admin()).digestFrequency;
  }

  async lastDigestAt(userId: number): Promise<number | null> {
    const row = await this.db.selectFrom('digest_state').select('last_sent_at').where('user_id', '=', userId).executeTakeFirst();
    return row?.last_sent_at ?? null;
  }

  async setLastDigestAt(userId: number, at: number): Promise<void> {
    await this.db
      .insertInto('digest_state')
      .values({ user_id: userId, frequency: null, last_sent_at: at })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ last_sent_at: (eb) => eb.ref('excluded.last_sent_at') }))
      .execute();
  }
}
