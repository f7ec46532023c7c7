// Whose messages a request may reach (a user's own addresses; for the administrator everyone's or
// one user's, ?user=) and what it may do with them. Checked on the server for every message,
// whatever the page showed.
import type { QuarantineEntry } from '../quarantine/store.js';
import { maySelfRelease, recipientsFor } from '../actions/quarantine-actions.js';
import type { ViewerUser } from '../accounts/viewer-accounts.js';
import type { Category } from '../config/schema.js';
import { HttpError, type ViewerContext } from './context.js';

/** The addresses whose messages this request may show: a user's own, or, for the admin, everyone's or one user's. */
export async function scope(c: ViewerContext): Promise<{ addresses: string[] | undefined; owner?: string }> {
  const { user } = c.get('session');
  if (!user.isAdmin) return { addresses: user.addresses };
  const asUser = Number(c.req.query('user'));
  if (!asUser) return { addresses: undefined };
  const target = await c.get('deps').accounts.get(asUser);
  if (!target) throw new HttpError(404, 'No such user.');
  return { addresses: target.addresses, owner: target.username };
}

/** The message, if it is addressed to someone this session acts for. */
export async function ownMessage(c: ViewerContext, id: string): Promise<QuarantineEntry> {
  const entry = await c.get('deps').store.get(id);
  // The same answer for "no such message" and "not yours": ids are not to be probed.
  if (!entry || recipientsFor(c.get('session').user, entry).length === 0) throw new HttpError(404, 'No such message in your quarantine.');
  return entry;
}

/** The administrator looking at one user's messages keeps that view from page to page. */
export const userQuery = (c: ViewerContext) => (c.req.query('user') ? `?user=${encodeURIComponent(c.req.query('user')!)}` : '');

/**
 * The original may be downloaded by whoever may release it: a user only what they release
 * themselves (and the administrator allows to download), the administrator anything, a virus
 * after saying so once more. `selfRelease`: the categories users release themselves.
 */
export function canDownload(c: ViewerContext, user: ViewerUser, entry: QuarantineEntry, selfRelease: readonly Category[]): boolean {
  if (user.isAdmin) return true;
  return c.get('deps').config.viewer.allowedDownloadTypes.includes(entry.reason) && maySelfRelease(selfRelease, user, entry);
}
