// The pages of the action links from digests: what a link would do (its button POSTs), what it did,
// and why nothing happened.
import type { Child } from 'hono/jsx';
import { Layout } from './layout.js';
import type { ActionClaims, LinkAction } from '../../actions/tokens.js';
import type { QuarantineEntry } from '../../quarantine/store.js';
import { displayText, subjectShown, senderShown } from '../../quarantine/display.js';
import type { ViewerUser } from '../../accounts/viewer-accounts.js';
import { utcTime } from '../../time/utc.js';

/** What the page asks; list entries name the one exact address they would add. */
function describe(action: LinkAction, selfRelease: boolean, sender: string): { title: string; button: string; explain: string } {
  switch (action) {
    case 'release':
      return selfRelease
        ? { title: 'Release this message?', button: 'Release', explain: 'The message is delivered to your mailbox.' }
        : {
            title: 'Ask for this message to be released?',
            button: 'Ask to release',
            explain: 'Messages of this kind are released by the administrator. Your request goes to them, and you get an e-mail when it is decided.',
          };
    case 'not-spam':
      return sender
        ? {
            title: 'Not spam?',
            button: `Not spam: release it and allow ${sender}`,
            explain: `The message is delivered to your mailbox, the spam filter learns from it, and mail from ${sender} (this address only) is no longer treated as spam for you.`,
          }
        : {
            title: 'Not spam?',
            button: 'Not spam: release it',
            explain: 'The message is delivered to your mailbox and the spam filter learns from it. It has no sender address to allow.',
          };
    case 'block-sender':
      return {
        title: `Block ${sender}?`,
        button: `Block ${sender}`,
        explain: `Mail from ${sender} (this address only) to you is discarded from now on, and this message is deleted.`,
      };
    case 'delete':
      return { title: 'Delete this message?', button: 'Delete', explain: 'The message is removed from your quarantine.' };
  }
}

/** A link's outcome: a heading and a few lines, in the frame of a page without a login. */
const OutcomePage = ({ heading, children }: { heading: string; children?: Child }) => (
  <Layout title={heading}>
    <div class="card">
      <h1>{heading}</h1>
      {children}
    </div>
  </Layout>
);

/** A page that explains why nothing happened, with the way to the quarantine. */
export const LinkRefusedPage = ({ heading, text }: { heading: string; text: string }) => (
  <OutcomePage heading={heading}>
    <p>{text}</p>
    <p>
      Nothing was changed. You can still act on your messages after logging in: <a href="/viewer/messages">open the quarantine</a>.
    </p>
  </OutcomePage>
);

export function LinkPage({
  token,
  claims,
  user,
  entry,
  recipients,
  selfRelease,
  sender,
  already,
}: {
  token: string;
  claims: ActionClaims;
  user: ViewerUser;
  entry: QuarantineEntry;
  recipients: string[];
  selfRelease: boolean;
  sender: string;
  already: string | null;
}) {
  const text = describe(claims.action, selfRelease, sender);
  return (
    <Layout title={text.title}>
      <div class="card confirm">
        <h1>{text.title}</h1>
        <table>
          <tbody>
            <tr>
              <th>Subject</th>
              <td>{displayText(subjectShown(entry))}</td>
            </tr>
            <tr>
              <th>From</th>
              <td>{displayText(senderShown(entry))}</td>
            </tr>
            <tr>
              <th>To</th>
              <td>{recipients.join(', ')}</td>
            </tr>
            <tr>
              <th>Received</th>
              <td>{utcTime(entry.receivedAt)}</td>
            </tr>
            <tr>
              <th>Held as</th>
              <td>
                {entry.reason}: {displayText(entry.detail)}
              </td>
            </tr>
          </tbody>
        </table>
        {already && <p class="notice error">{already}</p>}
        <p>{text.explain}</p>
        <form method="post" action={`/viewer/a/${token}`}>
          {already && <input type="hidden" name="again" value="1" />}
          <button type="submit">{text.button}</button>
        </form>
        <p class="muted">
          Signed link for {user.username}, valid until {utcTime(claims.expiresAt)}, once.
        </p>
      </div>
    </Layout>
  );
}

export const LinkDonePage = ({ text }: { text: string }) => (
  <OutcomePage heading="Done">
    <p class="notice ok">{text}</p>
    <p>
      <a href="/viewer/messages">Open the quarantine</a>
    </p>
  </OutcomePage>
);

/** The next hop deferred: nothing was used up, so the same link may be tried again. */
export const LinkNotDonePage = ({ text }: { text: string }) => (
  <OutcomePage heading="Not done">
    <p>{text}</p>
    <p>The link still works; try it again later.</p>
  </OutcomePage>
);
