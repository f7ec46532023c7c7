// A user's own digest page, and the frequency choice it shares with the administrator's user form.
import { Layout, CsrfField, Notice, SubmitButton } from './layout.js';
import type { Session } from '../../accounts/viewer-accounts.js';
import { DIGEST_FREQUENCIES, type DigestFrequency } from '../../actions/settings.js';

const DONE: Record<string, string> = {
  digest: 'Digest setting saved.',
};

/** How often one user's digest comes; "default" follows the administrator's setting for everyone. */
export const FrequencySelect = ({ current, defaultLabel }: { current: DigestFrequency | null; defaultLabel: string }) => (
  <select id="frequency" name="frequency">
    <option value="default" selected={current === null}>
      {defaultLabel}
    </option>
    {DIGEST_FREQUENCIES.map((f) => (
      <option value={f} selected={current === f}>
        {f}
      </option>
    ))}
  </select>
);

export function DigestPage({ session, done, own, everyone }: { session: Session; done?: string; own: DigestFrequency | null; everyone: DigestFrequency }) {
  return (
    <Layout title="Digest" user={session.user} csrfToken={session.csrfToken}>
      <h1>Quarantine digest</h1>
      <Notice kind="ok" text={DONE[done ?? '']} />
      <form method="post" action="/viewer/account/digest" class="card confirm">
        <CsrfField token={session.csrfToken} />
        <p>
          A list of what was held for {session.user.addresses.join(', ') || 'your addresses'} since the last one, by e-mail, with links to release or delete
          each message. Nothing is sent when nothing was held.
        </p>
        <label for="frequency">Send it</label>
        <FrequencySelect current={own} defaultLabel={`As the administrator set it (${everyone})`} />
        <SubmitButton>Save</SubmitButton>
      </form>
    </Layout>
  );
}
