// Digest links: each one acts once, and every refusal is audited. The token is the authority, so
// its nonce is recorded before acting (of two clicks at once only one acts) and given back when
// nothing was done, so the link can be tried again.
import { MESSAGE_ACTIONS, type ActionResult, type Actor } from './quarantine-actions.js';
import type { QuarantineEntry } from '../quarantine/store.js';
import type { ActionDeps } from './services.js';
import type { ActionClaims } from './tokens.js';
import { viaLink } from './audit.js';

export interface LinkRefusal {
  /** The token's claims when it could be read (expired, used, message gone). */
  claims?: ActionClaims;
  method: string;
  why: string;
  client: string;
}

export async function linkRefused(services: ActionDeps, refusal: LinkRefusal): Promise<void> {
  const { claims, method, why, client } = refusal;
  const name = claims ? ((await services.accounts.get(claims.userId))?.username ?? `user #${claims.userId}`) : 'unknown';
  const record = { actor: viaLink(name), action: 'link-refused', messageId: claims?.messageId, detail: `${method}: ${why}`, client };
  // A GET changes nothing, and junk GETs come by the hundred: one row per client and kind of refusal.
  if (method === 'GET') await services.audit.recordThrottled(`link-refused|${client}|${why}`, record);
  else await services.audit.record(record);
}

/**
 * Does the link's action; null when the link was used meanwhile. An action that was not done
 * (failed, or the copy was released meanwhile) leaves the link usable.
 */
export async function useLink(services: ActionDeps, actor: Actor, claims: ActionClaims, entry: QuarantineEntry, again: boolean): Promise<ActionResult | null> {
  if (!(await services.usedTokens.use(claims))) return null;
  try {
    const result = await MESSAGE_ACTIONS[claims.action](services, actor, entry, { again });
    if (result.outcome === 'already-released') await services.usedTokens.release(claims);
    return result;
  } catch (err) {
    await services.usedTokens.release(claims);
    throw err;
  }
}
