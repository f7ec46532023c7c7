// What can be done to one message: buttons on its own page, the same in a compact menu on each
// row of the list (a <details>: it opens without a script).
import type { QuarantineEntry } from '../../quarantine/store.js';
import { listSenderOf, maySelfRelease } from '../../actions/quarantine-actions.js';
import type { Category } from '../../config/schema.js';
import type { Session } from '../../accounts/viewer-accounts.js';
import type { ViewerContext } from '../context.js';
import { canDownload, userQuery } from '../message-access.js';
import { PostButton } from './layout.js';

/** What every message's actions need besides the message: `selfRelease`, the categories users release themselves. */
export interface ActionProps {
  c: ViewerContext;
  session: Session;
  selfRelease: readonly Category[];
}

export function ActionButtons({ c, entry, session, selfRelease: categories }: ActionProps & { entry: QuarantineEntry }) {
  const user = userQuery(c);
  const selfRelease = maySelfRelease(categories, session.user, entry);
  // Entries made from a message name one exact address, and the button says which.
  const sender = listSenderOf(entry);
  return (
    <span class="actions">
      {canDownload(c, session.user, entry, categories) && <a href={`/viewer/messages/${entry.id}/download${user}`}>Download</a>}
      <PostButton
        action={`/viewer/messages/${entry.id}/release${user}`}
        token={session.csrfToken}
        title={selfRelease ? 'Release to normal delivery' : 'Ask the administrator to release it'}
        inline
      >
        {selfRelease ? 'Release ➜' : 'Ask to release'}
      </PostButton>
      {entry.reason === 'SPAM' && (
        <PostButton
          action={`/viewer/messages/${entry.id}/not-spam${user}`}
          token={session.csrfToken}
          title={`Release, learn as not spam${sender ? `, and allow ${sender}` : ''}`}
          inline
        >
          Not spam
        </PostButton>
      )}
      {sender && (
        <PostButton
          action={`/viewer/messages/${entry.id}/block-sender${user}`}
          token={session.csrfToken}
          title={`Discard mail from ${sender} from now on, and delete this message`}
          inline
        >
          Block {sender}
        </PostButton>
      )}
      <PostButton action={`/viewer/messages/${entry.id}/delete${user}`} token={session.csrfToken} kind="danger" inline>
        Delete
      </PostButton>
    </span>
  );
}

export const ActionMenu = ({ c, entry, session, selfRelease }: ActionProps & { entry: QuarantineEntry }) => (
  <details class="menu">
    <summary title="Actions on this message">Actions</summary>
    <div class="menu-items">
      <a href={`/viewer/messages/${entry.id}${userQuery(c)}`}>Open</a>
      <ActionButtons c={c} entry={entry} session={session} selfRelease={selfRelease} />
    </div>
  </details>
);
