// The bulk pages: the form above the list, the confirmation that says what will happen to which
// message, and the result page.
import type { Session } from '../../accounts/viewer-accounts.js';
import { displayText, subjectShown } from '../../quarantine/display.js';
import type { QuarantineEntry } from '../../quarantine/store.js';
import { MAX_BULK_MESSAGES, type BulkAction, type BulkItem } from '../../actions/bulk-actions.js';
import { CsrfField, Layout } from './layout.js';
import { ReceivedFromCells, SHOWN_CHARS } from './message-bits.js';
import { listUrl, type ListState } from '../list-query.js';

/** The notices of the list after Delete All, by the key in ?done=. */
export const BULK_DONE: Record<string, string> = {
  'deleted-all': 'All your quarantined messages were deleted.',
};

/** What each choice of the list's bulk form is called, and what its confirmation says happens. */
export const CHOICES: Record<BulkAction, { label: string; button: string; explain: (admin: boolean) => string }> = {
  release: {
    label: 'Release',
    button: 'Release',
    explain: () => 'Each message is sent on to its recipients. Messages of a kind the administrator releases become requests to the administrator instead.',
  },
  allow: {
    label: 'Allow sender and release',
    button: 'Allow and release',
    explain: (admin) =>
      `Each sender goes on ${admin ? 'the global' : 'your'} allow list (their mail is no longer treated as spam) and the message is released; spam is also learned as not spam.`,
  },
  block: {
    label: 'Block sender and delete',
    button: 'Block and delete',
    explain: (admin) => `Each sender goes on ${admin ? 'the global' : 'your'} block list (their mail is discarded from now on) and the message is deleted.`,
  },
  delete: {
    label: 'Delete',
    button: 'Delete',
    explain: (admin) => (admin ? 'The messages are deleted for every recipient.' : 'Your copies are deleted; other recipients keep theirs.'),
  },
};

export const countOf = (n: number) => `${n} message${n === 1 ? '' : 's'}`;

/** The form above the list; its checkboxes are in the table (form="bulk"), as forms do not nest. */
export const BulkForm = ({ state }: { state: ListState }) => (
  <form id="bulk" method="get" action="/viewer/messages/bulk" class="bulk">
    {state.user && <input type="hidden" name="user" value={state.user} />}
    <label class="field" for="bulk-action">
      With the selected
    </label>
    <select id="bulk-action" name="action">
      {Object.entries(CHOICES).map(([value, choice]) => (
        <option value={value}>{choice.label}</option>
      ))}
    </select>
    <button type="submit">Apply…</button>
    <a href={listUrl(state, { selectAll: !state.selectAll })}>{state.selectAll ? 'Select none' : 'Select all on this page'}</a>
  </form>
);

function MessageRows({ entries, note }: { entries: QuarantineEntry[]; note: (entry: QuarantineEntry) => string }) {
  return (
    <table class="selection">
      <thead>
        <tr>
          <th class="when">Received</th>
          <th class="from">From</th>
          <th class="subject">Subject</th>
          <th class="outcome">What happens</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((entry) => {
          const subject = displayText(subjectShown(entry), SHOWN_CHARS);
          return (
            <tr>
              <ReceivedFromCells entry={entry} />
              <td class="subject" title={subject}>
                {subject}
              </td>
              <td class="outcome">{note(entry)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function BulkResultPage({ session, action, items, back }: { session: Session; action: BulkAction; items: BulkItem[]; back: string }) {
  const done = items.filter((i) => i.entry && i.outcome !== 'failed');
  const failed = items.filter((i) => i.outcome === 'failed');
  const missing = items.filter((i) => !i.entry).length;
  const byId = new Map(items.map((i) => [i.id, i]));
  return (
    <Layout title="Done" user={session.user} csrfToken={session.csrfToken}>
      <div class="card confirm wide">
        <h1>
          {CHOICES[action].label}: {countOf(done.length)} done{failed.length ? `, ${failed.length} not` : ''}
        </h1>
        {missing > 0 && <p class="muted">{countOf(missing)} no longer in your quarantine.</p>}
        <MessageRows entries={items.flatMap((i) => (i.entry ? [i.entry] : []))} note={(entry) => byId.get(entry.id)?.text ?? ''} />
        <p>
          <a href={back}>Back to the list</a>
        </p>
      </div>
    </Layout>
  );
}

/** What will happen, message by message, before anything does; the POST from it acts. */
export function BulkConfirmPage({
  session,
  action,
  entries,
  missing,
  tooMany,
  plan,
  postTo,
  back,
}: {
  session: Session;
  action: BulkAction;
  entries: QuarantineEntry[];
  /** How many of those selected are no longer in this user's quarantine. */
  missing: number;
  tooMany: boolean;
  plan: (entry: QuarantineEntry) => string;
  postTo: string;
  back: string;
}) {
  return (
    <Layout title={`${CHOICES[action].label}?`} user={session.user} csrfToken={session.csrfToken}>
      <div class="card confirm wide">
        {entries.length === 0 ? (
          <>
            <h1>No message selected</h1>
            <p>Tick the messages first, then choose what to do with them.</p>
          </>
        ) : (
          <>
            <h1>
              {CHOICES[action].label}: {countOf(entries.length)}?
            </h1>
            <p>{CHOICES[action].explain(session.user.isAdmin)}</p>
            {tooMany && <p class="notice error">At most {MAX_BULK_MESSAGES} messages at once: only the first are here.</p>}
            {missing > 0 && (
              <p class="muted">
                {countOf(missing)} of those selected {missing === 1 ? 'is' : 'are'} no longer in your quarantine.
              </p>
            )}
            <MessageRows entries={entries} note={(entry) => plan(entry)} />
            <form method="post" action={postTo}>
              <CsrfField token={session.csrfToken} />
              <input type="hidden" name="action" value={action} />
              {entries.map((entry) => (
                <input type="hidden" name="id" value={entry.id} />
              ))}
              <p class="actions">
                <button type="submit" class={action === 'delete' || action === 'block' ? 'danger' : undefined}>
                  {CHOICES[action].button} {countOf(entries.length)}
                </button>{' '}
                <a href={back}>Cancel</a>
              </p>
            </form>
          </>
        )}
        {entries.length === 0 && (
          <p>
            <a href={back}>Back to the list</a>
          </p>
        )}
      </div>
    </Layout>
  );
}
