// A user's own digest setting: how often the quarantine digest comes by e-mail. The administrator
// sets everyone's default in the console.
import { Hono } from 'hono';
import { Layout, CsrfField, Notice } from '../views/layout.js';
import { actorOf, formOf, HttpError, type ViewerEnv } from '../context.js';
import { DIGEST_FREQUENCIES, isFrequency } from '../../actions/settings.js';
import { setOwnDigest } from '../../actions/settings-actions.js';

const DONE: Record<string, string> = {
  digest: 'Digest setting saved.',
};

export const digestRoutes = new Hono<ViewerEnv>()
  .get('/account/digest', (c) => {
    const session = c.get('session');
    if (session.user.isAdmin) return c.redirect('/viewer/admin#settings', 303);
    const { settings } = c.get('deps');
    const own = settings.userFrequency(session.user.id);
    return c.html(
      <Layout title="Digest" user={session.user} csrfToken={session.csrfToken}>
        <h1>Quarantine digest</h1>
        <Notice kind="ok" text={DONE[c.req.query('done') ?? '']} />
        <form method="post" action="/viewer/account/digest" class="card confirm">
          <CsrfField token={session.csrfToken} />
          <p>
            A list of what was held for {session.user.addresses.join(', ') || 'your addresses'} since the last one, by e-mail, with links to release or delete
            each message. Nothing is sent when nothing was held.
          </p>
          <label for="frequency">Send it</label>
          <select id="frequency" name="frequency">
            <option value="default" selected={own === null}>
              As the administrator set it ({settings.admin().digestFrequency})
            </option>
            {DIGEST_FREQUENCIES.map((f) => (
              <option value={f} selected={own === f}>
                {f}
              </option>
            ))}
          </select>
          <p>
            <button type="submit">Save</button>
          </p>
        </form>
      </Layout>,
    );
  })
  .post('/account/digest', async (c) => {
    const form = await formOf(c);
    const frequency = form.frequency === 'default' ? null : form.frequency;
    if (frequency !== null && !isFrequency(frequency)) throw new HttpError(400, 'Choose off, daily or weekly.');
    const actor = actorOf(c);
    if (actor.user.isAdmin) throw new HttpError(400, 'The administrator sets the digest for everyone in the console.');
    setOwnDigest(c.get('deps'), actor, frequency);
    return c.redirect('/viewer/account/digest?done=digest', 303);
  });
