// Action links from digests, usable without logging in. GET only shows what the link would do and a
// button; the action happens on the POST from that page. Mailbox link scanners fetch links with
// GET, so they see the page and change nothing. The token is the authority here, not a session.
import { Hono } from 'hono';
import { LinkDonePage, LinkNotDonePage, LinkPage, LinkRefusedPage } from '../views/link-pages.js';
import type { ViewerContext, ViewerEnv } from '../context.js';
import { clientAddress } from '../context.js';
import { ActionFailed, listSenderOf, maySelfRelease, recipientsFor, type Actor } from '../../actions/quarantine-actions.js';
import { linkRefused, useLink } from '../../actions/link-actions.js';
import type { ActionClaims, LinkAction } from '../../actions/tokens.js';
import { notReleasedTo, type QuarantineEntry } from '../../quarantine/store.js';
import type { ViewerUser } from '../../accounts/viewer-accounts.js';
import { utcTime } from '../../time/utc.js';

/** A page that explains why nothing happened, with the way to the quarantine. */
const refused = (c: ViewerContext, status: 400 | 404 | 409 | 410, heading: string, text: string) =>
  c.html(<LinkRefusedPage heading={heading} text={text} />, status);

type Checked = { ok: true; claims: ActionClaims; user: ViewerUser; entry: QuarantineEntry } | { ok: false; response: Response | Promise<Response> };

/** Everything a link must pass before its page is shown or its action done; refusals are audited. */
async function checkLink(c: ViewerContext): Promise<Checked> {
  const { tokens, usedTokens, accounts, store } = c.get('deps');
  const check = tokens.verify(c.req.param('token') ?? '');
  const refuse = async (status: 400 | 404 | 410, heading: string, text: string, why: string, claims?: ActionClaims): Promise<Checked> => {
    await linkRefused(c.get('deps'), { claims, method: c.req.method, why, client: clientAddress(c) });
    return { ok: false, response: refused(c, status, heading, text) };
  };
  if (!check.ok) {
    if (check.why === 'expired') return refuse(410, 'This link has expired', `It worked until ${utcTime(check.claims!.expiresAt)}.`, 'expired', check.claims);
    return refuse(400, 'This link is not valid', 'It was changed or cut short on its way (some mail programs break long links).', check.why);
  }
  const { claims } = check;
  const usedAt = await usedTokens.usedAt(claims.nonce);
  if (usedAt !== null) return refuse(410, 'This link was already used', `It was used on ${utcTime(usedAt)}; each link works once.`, 'already used', claims);
  const user = await accounts.get(claims.userId);
  const entry = await store.get(claims.messageId);
  if (!user || !entry || recipientsFor(user, entry).length === 0)
    return refuse(
      404,
      'This message is no longer in your quarantine',
      'It was released, deleted, or removed when the quarantine got full.',
      'message or user gone',
      claims,
    );
  if (claims.action === 'block-sender' && !listSenderOf(entry))
    return refuse(
      400,
      'This message has no sender address to block',
      'Its sender is empty or not one exact address; add an entry on the lists page instead.',
      'no exact sender',
      claims,
    );
  return { ok: true, claims, user, entry };
}

/** When this user's copy was already released, the page says so: the button then sends another copy. */
function releasedBefore(user: ViewerUser, entry: QuarantineEntry, action: LinkAction): string | null {
  if (action !== 'release' && action !== 'not-spam') return null;
  const own = recipientsFor(user, entry);
  if (notReleasedTo(entry, own).length > 0) return null;
  const released = entry.releases.filter((r) => own.includes(r.address));
  return `This message was already released to you (${released.map((r) => `${r.address}, ${utcTime(r.at)}`).join('; ')}).${action === 'release' ? ' The button sends another copy.' : ''}`;
}

export const linkRoutes = new Hono<ViewerEnv>()
  .get('/a/:token', async (c) => {
    const checked = await checkLink(c);
    if (!checked.ok) return checked.response;
    const { claims, user, entry } = checked;
    const { selfRelease } = await c.get('deps').settings.admin();
    return c.html(
      <LinkPage
        token={c.req.param('token')}
        claims={claims}
        user={user}
        entry={entry}
        recipients={recipientsFor(user, entry)}
        selfRelease={maySelfRelease(selfRelease, user, entry)}
        sender={listSenderOf(entry)}
        already={releasedBefore(user, entry, claims.action)}
      />,
    );
  })
  .post('/a/:token', async (c) => {
    const checked = await checkLink(c);
    if (!checked.ok) return checked.response;
    const { claims, user, entry } = checked;
    const actor: Actor = { user, client: clientAddress(c), via: 'digest link' };
    const again = (await c.req.parseBody()).again === '1';
    try {
      const result = await useLink(c.get('deps'), actor, claims, entry, again);
      if (!result) return refused(c, 410, 'This link was already used', 'Each link works once.');
      // Released meanwhile (in the viewer, by another link): the link still works, from its page.
      if (result.outcome === 'already-released') return refused(c, 409, 'Already released', `${result.text} Open the link again to send another copy.`);
      return c.html(<LinkDonePage text={result.text} />);
    } catch (err) {
      if (err instanceof ActionFailed) return c.html(<LinkNotDonePage text={err.message} />, 409);
      throw err;
    }
  });
