// The message list: one line per message, however long its subject or sender (cut with an
// ellipsis; the full text is on the message's page), a checkbox for the bulk form, the actions in
// one menu, sortable headings. On a phone each row becomes a small card (see the stylesheet).
import type { QuarantineEntry, SortKey } from '../../quarantine/store.js';
import { recipientsFor } from '../../actions/quarantine-actions.js';
import type { ReleaseRequest } from '../../actions/release-requests.js';
import { displayText, subjectShown } from '../../quarantine/display.js';
import { formatSize, scoreOf } from '../format.js';
import { listUrl, sortFor, type ListState } from '../list-query.js';
import { userQuery } from '../message-access.js';
import { ActionMenu, type ActionProps } from './message-actions.js';
import { ReasonBadge, ReceivedFromCells, ReleaseState, RequestStatus, SHOWN_CHARS } from './message-bits.js';

const SCORE_ONLY = /^score=\S+ required=\S+$/;

function SortHeading({ state, by, label, class: className }: { state: ListState; by: SortKey; label: string; class: string }) {
  const current = state.sort.by === by;
  const arrow = current ? (state.sort.descending ? ' ▼' : ' ▲') : '';
  return (
    <th class={className} aria-sort={current ? (state.sort.descending ? 'descending' : 'ascending') : undefined}>
      <a href={listUrl(state, { sort: sortFor(state, by) })} title={`Sort by ${label.toLowerCase()}`}>
        {label}
        {arrow}
      </a>
    </th>
  );
}

export function MessageTable({
  c,
  session,
  selfRelease,
  entries,
  state,
  requests,
  showTo,
}: ActionProps & {
  entries: QuarantineEntry[];
  state: ListState;
  requests: Map<string, ReleaseRequest>;
  showTo: boolean;
}) {
  return (
    <table class={`messages${showTo ? ' with-to' : ''}`}>
      <thead>
        <tr>
          <th class="check">
            <span class="visually-hidden">Select</span>
          </th>
          <SortHeading state={state} by="date" label="Received" class="when" />
          <SortHeading state={state} by="from" label="From" class="from" />
          {showTo && <th class="to">To</th>}
          <SortHeading state={state} by="subject" label="Subject" class="subject" />
          <SortHeading state={state} by="reason" label="Reason" class="reason-cell" />
          <SortHeading state={state} by="score" label="Score" class="score" />
          <SortHeading state={state} by="size" label="Size" class="size" />
          <th class="menu-cell">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {entries.map((entry) => {
          // Only the user's own addresses: the others may be Bcc recipients.
          const own = recipientsFor(session.user, entry);
          const subject = displayText(subjectShown(entry), SHOWN_CHARS);
          const score = scoreOf(entry.detail);
          // "score=12 required=5" says no more than the score column: the rest of a detail does.
          const detail = SCORE_ONLY.test(entry.detail) ? '' : displayText(entry.detail, SHOWN_CHARS);
          return (
            <tr>
              <td class="check">
                <input type="checkbox" name="id" value={entry.id} form="bulk" checked={state.selectAll} aria-label={`Select: ${subject.slice(0, 80)}`} />
              </td>
              <ReceivedFromCells entry={entry} />
              {showTo && (
                <td class="to" title={own.join(', ')}>
                  {own.join(', ')}
                </td>
              )}
              <td class="subject">
                <a href={`/viewer/messages/${entry.id}${userQuery(c)}`} title={subject}>
                  {subject}
                </a>
              </td>
              <td class="reason-cell">
                <ReasonBadge reason={entry.reason} />
                <ReleaseState entry={entry} own={own} />
                <RequestStatus request={requests.get(entry.id)} />
                {detail && (
                  <span class="detail muted" title={detail}>
                    {detail}
                  </span>
                )}
              </td>
              <td class="score">{score === undefined ? '' : <span title="Spam score">{score.toFixed(1)}</span>}</td>
              <td class="size">{formatSize(entry.size)}</td>
              <td class="menu-cell">
                <ActionMenu c={c} entry={entry} session={session} selfRelease={selfRelease} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
