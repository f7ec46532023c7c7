// A user's own digest setting: how often the quarantine digest comes by e-mail. The administrator
// sets everyone's default in the console.
import { Hono } from 'hono';
import { DigestPage } from '../views/digest-page.js';
import { actorOf, formOf, HttpError, type ViewerEnv } from '../context.js';
import { isFrequency } from '../../actions/settings.js';
import { setOwnDigest } from '../../actions/settings-actions.js';

export const digestRoutes = new Hono<ViewerEnv>()
  .get('/account/digest', async (c) => {
    const session = c.get('session');
    if (session.user.isAdmin) return c.redirect('/viewer/admin#settings', 303);
    const { settings } = c.get('deps');
    const [own, everyone] = await Promise.all([settings.userFrequency(session.user.id), settings.admin()]);
    return c.html(<DigestPage session={session} done={c.req.query('done')} own={own} everyone={everyone.digestFrequency} />);
  })
  .post('/account/digest', async (c) => {
    const form = await formOf(c);
    const frequency = form.frequency === 'default' ? null : form.frequency;
    if (frequency !== null && !isFrequency(frequency)) throw new HttpError(400, 'Choose off, daily or weekly.');
    const actor = actorOf(c);
    if (actor.user.isAdmin) throw new HttpError(400, 'The administrator sets the digest for everyone in the console.');
    await setOwnDigest(c.get('deps'), actor, frequency);
    return c.redirect('/viewer/account/digest?done=digest', 303);
  });
