// A user's quarantined messages: list, safe view, download, release, delete. Every request checks,
// on the server, that the message is addressed to one of the user's own addresses.
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import type { QuarantineEntry } from '../../quarantine/store.js';
import { MESSAGE_ACTIONS, recipientsFor } from '../../actions/quarantine-actions.js';
import { messageDownloaded, messageViewed } from '../../actions/access-log.js';
import type { LinkAction } from '../../actions/tokens.js';
import { viewMessage } from '../message-view.js';
import { authservIdOf, readAuthResults } from '../../checks/auth-results.js';
import { actorOf, formOf, HttpError, type ViewerContext, type ViewerEnv } from '../context.js';
import { pageNumber } from '../paging.js';
import { canDownload, ownMessage, scope, userQuery } from '../message-access.js';
import { parseListState, storeQueryOf } from '../list-query.js';
import { MessagePage, MessagesPage, ReleaseAgainPage, VirusDownloadPage } from '../views/message-pages.js';

/** Back to the list after an action, with a line saying what was done. */
const backWith = (c: ViewerContext, done: string) => `/viewer/messages${userQuery(c) ? `${userQuery(c)}&` : '?'}done=${done}`;

export const messageRoutes = new Hono<ViewerEnv>()
  .get('/', (c) => c.redirect(c.get('session').user.isAdmin ? '/viewer/admin' : '/viewer/messages', 303))
  .get('/messages', async (c) => {
    const session = c.get('session');
    const { store } = c.get('deps');
    const { addresses, owner } = await scope(c);
    const state = parseListState((name) => c.req.query(name));
    const query = { addresses, ...storeQueryOf(state) };
    const total = await store.count(query);
    const page = pageNumber(c.req.query('page'), total, state.pageSize);
    const entries = await store.list({ ...query, limit: state.pageSize, offset: (page - 1) * state.pageSize });
    const [requests, { selfRelease }] = await Promise.all([
      c.get('deps').requests.latestFor(
        session.user.isAdmin ? null : session.user.id,
        entries.map((e) => e.id),
      ),
      c.get('deps').settings.admin(),
    ]);
    return c.html(
      <MessagesPage
        c={c}
        session={session}
        selfRelease={selfRelease}
        owner={owner}
        done={c.req.query('done')}
        state={state}
        entries={entries}
        requests={requests}
        page={page}
        total={total}
      />,
    );
  })
  .get('/messages/:id', async (c) => {
    const session = c.get('session');
    const { store } = c.get('deps');
    const entry = await ownMessage(c, c.req.param('id'));
    const file = await store.localFile(entry);
    const [view, auth] = await Promise.all([viewMessage(file.path, entry.size), readAuthResults(file.path, authservIdOf(c.get('deps').config))]).finally(() =>
      file.done(),
    );
    const [{ selfRelease }] = await Promise.all([c.get('deps').settings.admin(), messageViewed(c.get('deps'), actorOf(c), entry)]);
    return c.html(
      <MessagePage c={c} session={session} selfRelease={selfRelease} entry={entry} view={view} auth={auth} own={recipientsFor(session.user, entry)} />,
    );
  })
  .get('/messages/:id/download', async (c) => {
    const entry = await downloadable(c);
    if (entry.reason !== 'VIRUS') return sendOriginal(c, entry);
    // A virus is sent only after a second, deliberate step: a POST from this page.
    return c.html(<VirusDownloadPage session={c.get('session')} entry={entry} userQuery={userQuery(c)} />);
  })
  .post('/messages/:id/download', async (c) => sendOriginal(c, await downloadable(c)))
  .post('/messages/:id/:action{release|not-spam|block-sender|delete}', async (c) => {
    const entry = await ownMessage(c, c.req.param('id'));
    const form = await formOf(c);
    const result = await MESSAGE_ACTIONS[c.req.param('action') as LinkAction](c.get('deps'), actorOf(c), entry, { again: form.again === '1' });
    if (result.outcome === 'already-released') return releaseAgainPage(c, entry, c.req.param('action'));
    return c.redirect(backWith(c, result.outcome), 303);
  });

/** The message, when this session may download it; refused in the same words for every reason. */
async function downloadable(c: ViewerContext): Promise<QuarantineEntry> {
  const entry = await ownMessage(c, c.req.param('id')!);
  if (!canDownload(c, c.get('session').user, entry, (await c.get('deps').settings.admin()).selfRelease))
    throw new HttpError(
      403,
      `Messages quarantined as ${entry.reason} cannot be downloaded by you: only what you may release yourself (ALLOWED_DOWNLOAD_TYPES).`,
    );
  return entry;
}

async function sendOriginal(c: ViewerContext, entry: QuarantineEntry) {
  const { store } = c.get('deps');
  await messageDownloaded(c.get('deps'), actorOf(c), entry);
  c.header('Content-Type', 'message/rfc822');
  c.header('Content-Disposition', `attachment; filename="${entry.id}.eml"`);
  c.header('Content-Length', String(entry.size));
  return stream(c, async (out) => {
    for await (const chunk of store.openMessage(entry)) await out.write(chunk as Uint8Array);
  });
}

/** A release of something already released: say when, and send another copy only on a second click. */
function releaseAgainPage(c: ViewerContext, entry: QuarantineEntry, action: string) {
  const session = c.get('session');
  const own = recipientsFor(session.user, entry);
  const released = entry.releases.filter((r) => own.includes(r.address));
  return c.html(<ReleaseAgainPage session={session} entry={entry} action={action} released={released} userQuery={userQuery(c)} />);
}
