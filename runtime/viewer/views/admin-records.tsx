// The administrator's records: release requests waiting for a decision, and the audit log.
import type { Session } from '../../accounts/viewer-accounts.js';
import type { ReleaseRequest } from '../../actions/release-requests.js';
import type { AuditRecord } from '../../actions/audit.js';
import type { QuarantineEntry } from '../../quarantine/store.js';
import { displayText, subjectShown, senderShown } from '../../quarantine/display.js';
import { utcClock } from '../../time/utc.js';
import { Layout, Notice, PostButton, Table } from './layout.js';

/** The notices of the requests page, by the key in ?done= (never text from the address bar). */
const REQUEST_DONE: Record<string, string> = {
  approved: 'Approved: the message was released to the requester’s addresses, and they were told.',
  denied: 'Denied: the message stays in the quarantine, and the requester was told.',
};

export function RequestsPage({
  session,
  done,
  pending,
  entryOf,
}: {
  session: Session;
  done?: string;
  pending: ReleaseRequest[];
  /** The quarantined message a request is for, when it is still there. */
  entryOf: (messageId: string) => QuarantineEntry | undefined;
}) {
  return (
    <Layout title="Release requests" user={session.user} csrfToken={session.csrfToken}>
      <h1>Release requests</h1>
      <Notice kind="ok" text={REQUEST_DONE[done ?? '']} />
      <Table labels={['Asked', 'By', 'Message', 'Reason', '']}>
        {pending.map((request) => {
          const entry = entryOf(request.messageId);
          return (
            <tr>
              <td>{utcClock(request.requestedAt, true)}</td>
              <td>
                {request.username} <span class="muted">for {request.recipients.join(', ')}</span>
              </td>
              <td>
                {entry ? (
                  <a href={`/viewer/messages/${entry.id}`}>{displayText(subjectShown(entry))}</a>
                ) : (
                  <span class="muted">no longer in the quarantine</span>
                )}
                {entry && <span class="muted"> from {displayText(senderShown(entry))}</span>}
              </td>
              <td>
                {entry ? (
                  <>
                    <span class={`reason ${entry.reason}`}>{entry.reason}</span> <span class="muted">{displayText(entry.detail)}</span>
                  </>
                ) : (
                  ''
                )}
              </td>
              <td>
                <span class="actions">
                  {entry && (
                    <PostButton action={`/viewer/admin/requests/${request.id}/approve`} token={session.csrfToken} inline>
                      Approve
                    </PostButton>
                  )}
                  <PostButton action={`/viewer/admin/requests/${request.id}/deny`} token={session.csrfToken} kind="danger" inline>
                    Deny
                  </PostButton>
                </span>
              </td>
            </tr>
          );
        })}
      </Table>
      {pending.length === 0 && <p class="muted">No request waits for you.</p>}
    </Layout>
  );
}

export const AUDIT_PAGE = 100;

export function AuditPage({
  session,
  search,
  records,
  page,
  total,
  pageLink,
}: {
  session: Session;
  search: string | undefined;
  records: AuditRecord[];
  page: number;
  total: number;
  pageLink: (page: number) => string;
}) {
  return (
    <Layout title="Audit log" user={session.user} csrfToken={session.csrfToken}>
      <h1>Audit log</h1>
      <form method="get" action="/viewer/admin/audit" class="filters">
        <input type="search" name="q" value={search ?? ''} placeholder="Message id, user or action" aria-label="Search" />
        <button type="submit">Filter</button>
      </form>
      <Table labels={['When (UTC)', 'Who', 'Action', 'Message', 'Details', 'From']} class="audit">
        {records.map((r) => (
          <tr>
            <td>{utcClock(r.at, true)}</td>
            <td>{r.actor}</td>
            <td>{r.action}</td>
            <td>{r.messageId}</td>
            <td>{r.detail}</td>
            <td>{r.client}</td>
          </tr>
        ))}
      </Table>
      <div class="pager">
        {page > 1 && <a href={pageLink(page - 1)}>← Newer</a>}
        <span class="muted">
          {total} record{total === 1 ? '' : 's'}
        </span>
        {page * AUDIT_PAGE < total && <a href={pageLink(page + 1)}>Older →</a>}
      </div>
    </Layout>
  );
}
