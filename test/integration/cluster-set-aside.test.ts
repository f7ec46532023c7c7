// Fetch mode's set-aside messages on several appliances sharing one PostgreSQL (Debian's 15 on
// loopback, TLS): node A's fetcher sets messages aside in the shared database (through its own
// seen-state, as a poll does), and node B's `mailfilter status` and console show them, the
// cluster's list, not B's own state folder (which keeps an older set-aside message of its own, from
// before it joined, that no longer counts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { localAuthenticator } from '../../runtime/accounts/authenticate.js';
import { openActionServices, type ActionServices } from '../../runtime/actions/services.js';
import { parseConfig } from '../../runtime/config/load.js';
import type { AppConfig } from '../../runtime/config/schema.js';
import { SeenState } from '../../runtime/fetch/seen-state.js';
import { readSetAside, seenStatePath } from '../../runtime/fetch/set-aside.js';
import { formatStatus, gatherStatus } from '../../runtime/status/report.js';
import { openPostgres } from '../../runtime/storage/postgres.js';
import { migrateShared, type SharedTables } from '../../runtime/storage/shared-schema.js';
import { createViewerApp } from '../../runtime/viewer/app.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { makeTestCerts } from '../support/tls.js';
import { ViewerBrowser } from '../support/viewer-browser.js';

const root = mkdtempSync(join(tmpdir(), 'mailfilter-cluster-set-aside-'));
let server: TestPostgres | undefined;
let shared: Kysely<SharedTables> | undefined;
const opened: ActionServices[] = [];

before(async () => {
  server = await startPostgres(makeTestCerts(join(root, 'certs')));
  shared = openPostgres<SharedTables>({ url: server.url, caFile: server.caFile, applicationName: 'test' });
  await migrateShared(shared);
});

after(async () => {
  for (const services of opened) await services.close().catch(() => undefined);
  await shared?.destroy().catch(() => undefined);
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** A fetch-mode node: its own host name and folders, the shared database. */
function nodeConfig(name: string): AppConfig {
  const dir = join(root, name);
  return parseConfig({
    mail: { mode: 'fetchmail' },
    network: { hostname: `${name}.company.com` },
    quarantine: { dir: join(dir, 'quarantine') },
    fetch: { stateDir: join(dir, 'fetch') },
    viewer: { dataDir: join(dir, 'viewer') },
    storage: { backend: 'postgresql', url: server!.url, caFile: server!.caFile },
  });
}

test('node A’s set-aside messages are shown by node B’s status and console; B’s own state file no longer counts', { timeout: 120_000 }, async () => {
  const [a, b] = [nodeConfig('mx-a'), nodeConfig('mx-b')];
  // From B's days on its own: a set-aside message in its state folder.
  const before = SeenState.open(seenStatePath(b.fetch.stateDir));
  await before.recordFailure('pop3://old@company.com@pop.example', 'uid-1', 'from before the cluster', 1);
  await before.close();

  const statusOnB = async () => formatStatus(await gatherStatus(b)).join('\n');
  assert.match(await statusOnB(), /Fetching: 0 message\(s\) set aside after failing several polls \(all nodes\)/);

  // Node A's fetcher, as its polls record failures: the second message fails five polls in a row.
  const fetcherOnA = SeenState.shared(shared!);
  await fetcherOnA.recordFailure('imap://box@company.com@imap.example', '7:11', 'the server did not send it: NO [UNAVAILABLE]', 5);
  for (let poll = 0; poll < 5; poll++)
    await fetcherOnA.recordFailure('pop3://box@company.com@pop.example', 'uid-17', 'Postfix deferred it: 451 4.3.0 try later', 5);
  assert.deepEqual(
    (await readSetAside(a)).messages.map((m) => [m.account, m.uid]),
    [['pop3://box@company.com@pop.example', 'uid-17']],
    'a message that failed once is not set aside yet',
  );

  assert.match(await statusOnB(), /Fetching: 1 message\(s\) set aside after failing several polls \(all nodes\)/);

  const services = await openActionServices(b);
  opened.push(services);
  await services.accounts.setPassword((await services.accounts.findByName('vadmin'))!.id, 'admin-password-1');
  const app = createViewerApp({ ...services, authenticate: localAuthenticator(services.accounts) });
  const admin = new ViewerBrowser(async (path, init) =>
    app.request(`https://mx-b.company.com${path}`, init, { incoming: { socket: { remoteAddress: '127.0.0.1' } } }),
  );
  await admin.login('vadmin', 'admin-password-1');
  const page = (await admin.request('/viewer/admin')).text;
  assert.match(page, /Every node(&#39;|')s fetcher, as the shared database records them/);
  assert.match(page, /1 message was set aside after failing several polls in a row/);
  assert.match(page, /pop3:\/\/box@company\.com@pop\.example message uid-17: Postfix deferred it: 451 4\.3\.0 try later/);
  assert.doesNotMatch(page, /from before the cluster|7:11/);

  // The database gone: status says so rather than a count.
  await server!.halt();
  try {
    assert.match(await statusOnB(), /Fetching: set-aside messages unknown \(.*(ECONNREFUSED|connect|terminat).*\)/s);
  } finally {
    await server!.resume();
  }
});
