// Action links in digests: a token names one action on one message for one user, until a time,
// signed with the appliance's secret (HMAC-SHA256). It is used once: its nonce is recorded when the
// action is done. Opening the link only shows a page; the action needs the POST from that page.
import type { ViewerDatabase } from '../storage/viewer-db.js';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LINK_ACTIONS = ['release', 'not-spam', 'block-sender', 'delete'] as const;
export type LinkAction = (typeof LINK_ACTIONS)[number];

export interface ActionClaims {
  action: LinkAction;
  messageId: string;
  userId: number;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  nonce: string;
}

export type TokenCheck = { ok: true; claims: ActionClaims } | { ok: false; why: 'malformed' | 'tampered' | 'expired'; claims?: ActionClaims };

const SECRET_FILE = 'action-links.key';

/** The appliance's link secret, made once (32 random bytes, readable by the mailfilter user only). */
export function loadLinkSecret(viewerDataDir: string): Buffer {
  const path = join(viewerDataDir, SECRET_FILE);
  if (!existsSync(path)) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, randomBytes(32).toString('base64'));
      fsyncSync(fd);
      closeSync(fd);
    } catch (err) {
      // Another process (viewer, digest) made it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const secret = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (secret.length < 32) throw new Error(`${path} holds no usable secret; delete it and it is made again (old links stop working)`);
  return secret;
}

function isClaims(value: unknown): value is ActionClaims {
  const v = value as Record<string, unknown>;
  return (
    typeof v === 'object' &&
    v !== null &&
    (LINK_ACTIONS as readonly unknown[]).includes(v.action) &&
    typeof v.messageId === 'string' &&
    Number.isInteger(v.userId) &&
    typeof v.expiresAt === 'number' &&
    typeof v.nonce === 'string'
  );
}

/** The settings row holding the cluster's link secret in the shared database. */
const SHARED_SECRET_SETTING = 'actionLinksSecret';

/**
 * The link secret several appliances share (a link in a digest sent by one node is opened on
 * whichever node the user reaches): made once by the first node, in the shared database.
 */
export async function sharedLinkSecret(db: ViewerDatabase): Promise<Buffer> {
  await db
    .insertInto('settings')
    .values({ name: SHARED_SECRET_SETTING, value: randomBytes(32).toString('base64') })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('settings').select('value').where('name', '=', SHARED_SECRET_SETTING).executeTakeFirstOrThrow();
  const secret = Buffer.from(row.value, 'base64');
  if (secret.length < 32)
    throw new Error(
      `the shared database's ${SHARED_SECRET_SETTING} holds no usable secret; delete that settings row and it is made again (old links stop working)`,
    );
  return secret;
}

export class ActionTokens {
  /** Null until a shared database that was down at start has answered (`secretMissing` says why). */
  private secret: Buffer | null;
  private secretMissing: unknown = null;

  constructor(secret: Buffer | null) {
    this.secret = secret;
  }

  get ready(): boolean {
    return this.secret !== null;
  }

  /** The shared secret, once the database gives it; until then signing and checking fail with `why` as their cause. */
  useSecret(secret: Buffer | null, why?: unknown): void {
    this.secret = secret;
    this.secretMissing = why ?? null;
  }

  private mac(payload: string): Buffer {
    // The cause keeps a database outage an outage (the viewer's 503), not a bug.
    if (!this.secret) throw new Error('the link secret is not loaded: the shared database has not answered yet', { cause: this.secretMissing });
    return createHmac('sha256', this.secret).update(`mailfilter-action-v1.${payload}`).digest();
  }

  sign(claims: Omit<ActionClaims, 'nonce'>): string {
    const payload = Buffer.from(JSON.stringify({ ...claims, nonce: randomBytes(12).toString('base64url') })).toString('base64url');
    return `${payload}.${this.mac(payload).toString('base64url')}`;
  }

  verify(token: string, now = Date.now()): TokenCheck {
    const match = /^([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return { ok: false, why: 'malformed' };
    const [, payload = '', mac = ''] = match;
    const given = Buffer.from(mac, 'base64url');
    const expected = this.mac(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, why: 'tampered' };
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, why: 'malformed' };
    }
    if (!isClaims(claims)) return { ok: false, why: 'malformed' };
    if (claims.expiresAt <= now) return { ok: false, why: 'expired', claims };
    return { ok: true, claims };
  }
}

/** Nonces of tokens already used, kept until the token would have expired anyway. */
export class UsedTokens {
  constructor(private readonly db: ViewerDatabase) {}

  async usedAt(nonce: string): Promise<number | null> {
    const row = await this.db.selectFrom('used_tokens').select('used_at').where('nonce', '=', nonce).executeTakeFirst();
    return row?.used_at ?? null;
  }

  /** Marks a token used; false when it already was (two clicks racing, on one node or two: only one acts). */
  async use(claims: ActionClaims): Promise<boolean> {
    await this.db.deleteFrom('used_tokens').where('expires_at', '<', Date.now()).execute();
    const result = await this.db
      .insertInto('used_tokens')
      .values({ nonce: claims.nonce, used_at: Date.now(), expires_at: claims.expiresAt })
      .onConflict((oc) => oc.column('nonce').doNothing())
      .executeTakeFirst();
    return result.numInsertedOrUpdatedRows === 1n;
  }

  /** Gives a token back when its action failed (the next hop deferred), so the link can be tried again. */
  async release(claims: ActionClaims): Promise<void> {
    await this.db.deleteFrom('used_tokens').where('nonce', '=', claims.nonce).execute();
  }
}
