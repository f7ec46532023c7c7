// The one confirmation before a delete of everything: a user's Delete All, the administrator's Clear.
import { Layout, CsrfField } from './layout.js';
import type { Session } from '../../accounts/viewer-accounts.js';

export function DeleteAllPage({
  session,
  title,
  heading,
  text,
  count,
  button,
  action,
  back,
  backLabel,
}: {
  session: Session;
  title: string;
  heading: string;
  /** What goes, or that there is nothing to delete. */
  text: string;
  count: number;
  button: string;
  /** Where the form POSTs; the form is shown only when there is something to delete. */
  action: string;
  back: string;
  backLabel: string;
}) {
  return (
    <Layout title={title} user={session.user} csrfToken={session.csrfToken}>
      <div class="card confirm">
        <h1>{heading}</h1>
        <p>{text}</p>
        {count > 0 && (
          <form method="post" action={action}>
            <CsrfField token={session.csrfToken} />
            <p class="actions">
              <button type="submit" class="danger">
                {button}
              </button>{' '}
              <a href={back}>Cancel</a>
            </p>
          </form>
        )}
        {count === 0 && (
          <p>
            <a href={back}>{backLabel}</a>
          </p>
        )}
      </div>
    </Layout>
  );
}
