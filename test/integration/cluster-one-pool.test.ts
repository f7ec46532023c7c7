// One handle on the shared database per process, seen from a real PostgreSQL 15 (loopback, TLS):
// `mailfilter viewer` started as systemd starts it, with the database down, says once that it is
// not ready and once that it reached it (one schema check, not the quarantine's and the viewer's
// tables' each), and with every request's query held up by a lock the server lists exactly one
// pool's worth of its connections, all named mailfilter-viewer: the quarantine, the viewer's tables
// and the list of nodes share them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import { spawnServer, type ChildServer } from '../../runtime/local/servers.js';
import { openPostgres } from '../../runtime/storage/postgres.js';
import type { SharedTables } from '../../runtime/storage/shared-schema.js';
import { adminBrowser } from '../support/cluster.js';
import { freePort, listening } from '../support/net.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { makeTestCerts } from '../support/tls.js';
import { httpsTransport, ViewerBrowser } from '../support/viewer-browser.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** The viewer's pool (openActionServices). */
const VIEWER_POOL = 10;

const root = mkdtempSync(join(tmpdir(), 'mailfilter-cluster-one-pool-'));
let server: TestPostgres | undefined;
let viewer: ChildServer | undefined;
let probe: Kysely<SharedTables> | undefined;

before(async () => {
  server = await startPostgres(makeTestCerts(join(root, 'certs')));
});

after(async () => {
  await viewer?.stop();
  await probe?.destroy().catch(() => undefined);
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, get: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const value = await get().catch((err: unknown) => void (last = err));
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(250);
  }
}

test('the viewer process holds one pool on the shared database, named for it, and checks the schema once', { timeout: 300_000 }, async () => {
  const dir = join(root, 'node');
  mkdirSync(dir);
  const httpsPort = await freePort();
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      network: { hostname: 'mx-a.company.com' },
      quarantine: { dir: join(dir, 'quarantine') },
      viewer: { dataDir: join(dir, 'viewer'), listenAddress: '127.0.0.1', httpsPort, httpPort: 0 },
      storage: { backend: 'postgresql', url: server!.url, caFile: server!.caFile },
    }),
  );
  const logFile = join(dir, 'viewer.log');
  const log = () => readFileSync(logFile, 'utf8');
  const lines = (pattern: RegExp) =>
    log()
      .split('\n')
      .filter((line) => pattern.test(line));

  // Down at start: the viewer still starts, and says so once.
  await server!.halt();
  viewer = spawnServer(
    'viewer',
    'env',
    ['MAILFILTER_LOG_LEVEL=info', process.execPath, '--import', 'tsx', join(REPO, 'runtime/cli.ts'), 'viewer', '--config', configFile],
    { logFile, cwd: REPO },
  );
  await viewer.ready('the viewer to listen', () => listening(httpsPort), 120_000);
  assert.equal(lines(/storage: shared database not ready/).length, 1, log());

  // Back: the schema is brought up to date once, and vadmin made.
  await server!.resume();
  await until('the schema to be brought up to date', async () => (lines(/storage: shared database reached, schema up to date/).length > 0 ? true : undefined));
  probe = openPostgres<SharedTables>({ url: server!.url, caFile: server!.caFile, applicationName: 'test-probe', maxConnections: 2 });
  // Logging in before vadmin is made would only meet the login limits.
  await until('vadmin to be made', async () => (await probe!.selectFrom('users').select('id').where('username', '=', 'vadmin').executeTakeFirst())?.id);
  const browser = await adminBrowser({ name: 'a', browser: () => new ViewerBrowser(httpsTransport(httpsPort)) });
  // The console asks the quarantine, the viewer's tables and the list of nodes at once.
  const consolePage = await browser.request('/viewer/admin');
  assert.equal(consolePage.status, 200, consolePage.text.slice(0, 500));
  assert.equal(lines(/storage: shared database reached, schema up to date/).length, 1, log());
  assert.equal(lines(/storage: shared database not ready/).length, 1, log());

  // Every list of the quarantine waits for a lock held here: the viewer's pool fills, and the
  // requests after those wait for a connection of it, not for one of another pool.
  const connections = () =>
    sql<{ name: string; total: number; waiting: number }>`
      SELECT application_name AS name, count(*)::int AS total, (count(*) FILTER (WHERE wait_event_type = 'Lock'))::int AS waiting
      FROM pg_stat_activity WHERE datname = current_database() AND application_name <> 'test-probe' GROUP BY application_name ORDER BY 1`.execute(probe!);
  let pages: Array<Promise<{ status: number }>> = [];
  const seen = await probe.transaction().execute(async (trx) => {
    await sql`LOCK TABLE messages IN ACCESS EXCLUSIVE MODE`.execute(trx);
    pages = Array.from({ length: VIEWER_POOL + 4 }, () => browser.request('/viewer/messages'));
    await until('the viewer’s pool to be held up by the lock', async () => {
      const { rows } = await connections();
      return rows.find((r) => r.name === 'mailfilter-viewer')?.waiting === VIEWER_POOL ? true : undefined;
    });
    return (await connections()).rows;
  });
  assert.deepEqual(
    seen.map((r) => [r.name, r.total]),
    [['mailfilter-viewer', VIEWER_POOL]],
    'one pool of the viewer’s, no connection of any other',
  );
  for (const page of await Promise.all(pages)) assert.equal(page.status, 200, 'every list answered once the lock went');
});
