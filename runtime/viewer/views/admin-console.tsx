// The administration console: statistics, the quarantine's size, requests, fetch mode and settings.
import type { Session } from '../../accounts/viewer-accounts.js';
import type { AdminSettings } from '../../actions/settings.js';
import { DIGEST_FREQUENCIES } from '../../actions/settings.js';
import { CATEGORIES } from '../../config/schema.js';
import { dkimTypeName, zoneLine, type DkimPublication } from '../../checks/auth-dkim-record.js';
import type { ClusterNode } from '../../cluster/nodes.js';
import { utcTime } from '../../time/utc.js';
import { CsrfField, Layout, Notice, Table } from './layout.js';
import { DoorChart, StatsChart, SizeBar } from './stats-chart.js';

/** The notices of the console and the users page, by the key in ?done= (never text from the address bar). */
export const ADMIN_DONE: Record<string, string> = {
  password: 'Password changed.',
  cleared: 'The quarantine was cleared.',
  saved: 'User saved.',
  deleted: 'User deleted.',
  settings: 'Settings saved.',
};

/** Fetch mode's set-aside messages (`cluster`: every node's), what reading them failed with, or null outside fetch mode. */
export type SetAsideState = { messages: { account: string; uid: number | string; lastError: string }[]; cluster: boolean } | { error: string } | null;

/** Fetch mode only: the messages the fetcher gave up on, which stay on their mail server untouched. */
export function SetAsideCard({ setAside }: { setAside: SetAsideState }) {
  if (setAside === null) return null;
  if ('error' in setAside)
    return (
      <div class="card">
        <h2>Fetch mode</h2>
        <p>The fetcher's state could not be read ({setAside.error}).</p>
      </div>
    );
  const { messages, cluster } = setAside;
  return (
    <div class="card">
      <h2>Fetch mode</h2>
      {cluster && <p>Every node's fetcher, as the shared database records them (which node set a message aside is not recorded).</p>}
      {messages.length === 0 ? (
        <p>No fetched message was set aside.</p>
      ) : (
        <>
          <p class="notice error">
            {messages.length} message{messages.length === 1 ? ' was' : 's were'} set aside after failing several polls in a row. They stay on their mail server
            and are not tried again; `mailfilter status` counts them too.
          </p>
          <ul>
            {messages.slice(0, 10).map((m) => (
              <li>
                {m.account} message {m.uid}: {m.lastError}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** A labelled row whose value is to be copied as it is. */
const CodeRow = ({ label, code }: { label: string; code: string }) => (
  <tr>
    <th>{label}</th>
    <td>
      <code>{code}</code>
    </td>
  </tr>
);

/** The DKIM key outgoing mail is signed with, and the TXT record the organisation must publish for it. */
function DkimCard({ publication }: { publication: DkimPublication }) {
  return (
    <div class="card" id="dkim">
      <h2>DKIM signing of outgoing mail</h2>
      {publication.state === 'off' && <p>Off: outgoing mail is not signed. `mailfilter configure` turns it on and makes the key.</p>}
      {publication.state === 'missing' && (
        <p class="notice error">
          No key yet at {publication.keyFile}: `mailfilter configure` makes it, and the filter does not start until there is one. Its record will be published
          at {publication.name}.
        </p>
      )}
      {publication.state === 'unreadable' && (
        <p class="notice error">
          {publication.keyFile} cannot be read ({publication.reason}).
        </p>
      )}
      {publication.state === 'ready' && (
        <>
          <p>
            Mail from the allowed networks whose From: is your domain is signed with the {dkimTypeName(publication.record.type)} key {publication.keyFile}.
            Publish this TXT record in your domain’s DNS: receivers check the signatures with it.
          </p>
          <table>
            <CodeRow label="Name" code={publication.record.name} />
            <tr>
              <th>Type</th>
              <td>TXT</td>
            </tr>
            <CodeRow label="Value" code={publication.record.value} />
            <CodeRow label="Zone file" code={zoneLine(publication.record)} />
          </table>
        </>
      )}
    </div>
  );
}

function SettingsCard({ session, current }: { session: Session; current: AdminSettings }) {
  return (
    <form method="post" action="/viewer/admin/settings" class="card" id="settings">
      <CsrfField token={session.csrfToken} />
      <h2>Digest</h2>
      <label for="digestFrequency">Quarantine digest for every user (each may change theirs under Digest)</label>
      <select id="digestFrequency" name="digestFrequency">
        {DIGEST_FREQUENCIES.map((f) => (
          <option value={f} selected={current.digestFrequency === f}>
            {f}
          </option>
        ))}
      </select>
      <h2>Releases</h2>
      <label>Users release these themselves; others need your approval</label>
      <p class="actions">
        {CATEGORIES.map((category) => (
          <label class="check">
            <input type="checkbox" name={`self_${category}`} value="1" checked={current.selfRelease.includes(category)} /> {category}
          </label>
        ))}
      </p>
      <p>
        <button type="submit">Save settings</button>
      </p>
    </form>
  );
}

type Charts = {
  since: string;
  outcomes: Parameters<typeof StatsChart>[0]['rows'];
  door: Parameters<typeof DoorChart>[0]['rows'];
};

/** The appliances sharing this one's database (storage.backend postgresql), as their heartbeats say. */
export function NodesCard({ nodes }: { nodes: ClusterNode[] | undefined }) {
  if (!nodes) return null;
  return (
    <div class="card">
      <h2>Nodes sharing this quarantine</h2>
      {nodes.length === 0 ? (
        <p>No node has written a heartbeat yet (each node's filter writes one every 30 seconds).</p>
      ) : (
        <Table labels={['Node', 'State', 'Last heard', 'Version', 'Postfix queue']}>
          {nodes.map((node) => (
            <tr>
              <td>{node.name}</td>
              <td>{node.alive ? 'up' : <strong>not heard from</strong>}</td>
              <td>{utcTime(node.heartbeatAt)}</td>
              <td>{node.version}</td>
              <td>{node.queueSize < 0 ? 'unknown' : node.queueSize}</td>
            </tr>
          ))}
        </Table>
      )}
    </div>
  );
}

export function ConsolePage({
  session,
  done,
  since,
  outcomes,
  door,
  quarantine,
  pending,
  setAside,
  dkim,
  settings,
  nodes,
}: Charts & {
  session: Session;
  done?: string;
  quarantine: { bytes: number; limitBytes: number; count: number };
  pending: number;
  setAside: SetAsideState;
  dkim: DkimPublication;
  settings: AdminSettings;
  /** Only when several appliances share the database. */
  nodes?: ClusterNode[];
}) {
  return (
    <Layout title="Administration" user={session.user} csrfToken={session.csrfToken}>
      <h1>Administration console</h1>
      <Notice kind="ok" text={ADMIN_DONE[done ?? '']} />
      <div class="card">
        <h2>Mail in the last 14 days</h2>
        <StatsChart rows={outcomes} since={since} days={14} />
      </div>
      <div class="card">
        <h2>Refused at the door in the last 14 days</h2>
        <DoorChart rows={door} since={since} days={14} />
      </div>
      <div class="card">
        <h2>Quarantine</h2>
        <SizeBar used={quarantine.bytes} limit={quarantine.limitBytes} count={quarantine.count} />
        <p class="actions">
          <a href="/viewer/messages">See all messages</a>
          <a href="/viewer/admin/users">Users</a>
          <a href="/viewer/account/password">Change vadmin’s password</a>
        </p>
        <form method="get" action="/viewer/admin/clear">
          <button type="submit" class="danger">
            Clear the whole quarantine…
          </button>
        </form>
      </div>
      <div class="card">
        <h2>Release requests</h2>
        <p>
          {pending === 0 ? (
            'No request waits for you.'
          ) : (
            <a href="/viewer/admin/requests">
              {pending} request{pending === 1 ? '' : 's'} to decide
            </a>
          )}
        </p>
        <p class="actions">
          <a href="/viewer/admin/audit">Audit log</a> <a href="/viewer/lists">Global allow and block lists</a>
        </p>
      </div>
      <NodesCard nodes={nodes} />
      <SetAsideCard setAside={setAside} />
      <DkimCard publication={dkim} />
      <SettingsCard session={session} current={settings} />
    </Layout>
  );
}
