// SpamAssassin's Bayes in the shared PostgreSQL: two real spamd (Debian's), each started with the
// settings the appliance renders for storage.backend postgresql, learn into one store, so that
// "Not spam" said through one node is known to the other.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { tellSpamd } from '../../runtime/checks/spam.js';
import { parseConfig } from '../../runtime/config/load.js';
import { ServerSet } from '../../runtime/local/servers.js';
import { bayesSqlLines } from '../../runtime/render/template-values.js';
import { openPostgres } from '../../runtime/storage/postgres.js';
import { migrateShared, type SharedTables } from '../../runtime/storage/shared-schema.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { startSpamd, type Spamd } from '../support/spamd.js';
import { makeTestCerts } from '../support/tls.js';

const root = mkdtempSync(join(tmpdir(), 'mailfilter-cluster-bayes-'));
// spamd's children run as nobody: they must reach their folders and read the CA.
chmodSync(root, 0o755);
const servers = new ServerSet();
let db: Kysely<SharedTables> | undefined;

let nodeA: Spamd;
let nodeB: Spamd;

const message = (subject: string, words: string) =>
  `From: someone@example.net\r\nTo: alice@company.local\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.net>\r\n\r\n${words}\r\n`;

before(async () => {
  const postgres: TestPostgres = servers.add(await startPostgres(makeTestCerts(join(root, 'certs'))));
  const caFile = join(root, 'db-ca.pem');
  copyFileSync(postgres.caFile, caFile);
  chmodSync(caFile, 0o644);
  db = openPostgres<SharedTables>({ url: postgres.url, caFile, applicationName: 'bayes-test' });
  await migrateShared(db);
  const config = parseConfig({ storage: { backend: 'postgresql', url: postgres.url, caFile } });
  const extraArgs = bayesSqlLines(config).map((line) => `--cf=${line}`);
  for (const dir of ['a', 'b']) mkdirSync(join(root, dir));
  [nodeA, nodeB] = await servers.startTogether<[Spamd, Spamd]>([
    startSpamd(join(root, 'a'), { extraArgs }),
    startSpamd(join(root, 'b'), { extraArgs }),
  ] as const);
});

after(async () => {
  await db?.destroy();
  await servers.stopAll();
  rmSync(root, { recursive: true, force: true });
});

const learned = async () =>
  (await sql<{ spam_count: number; ham_count: number }>`SELECT spam_count, ham_count FROM bayes_vars WHERE username = 'mailfilter'`.execute(db!)).rows[0];

test('ham learned through one spamd and spam through the other land in the one shared Bayes store', { timeout: 600_000 }, async () => {
  const ham = join(root, 'ham.eml');
  writeFileSync(ham, message('Quarterly figures for the board', 'The quarterly figures are attached as agreed in the meeting yesterday.'));
  chmodSync(ham, 0o644);
  const spam = join(root, 'spam.eml');
  writeFileSync(spam, message('Cheap watches', 'Replica watches at unbelievable prices, click now, limited offer.'));
  chmodSync(spam, 0o644);
  const address = (node: Spamd) => ({ host: '127.0.0.1', port: node.port, timeoutSeconds: 120 });

  assert.match(await tellSpamd(address(nodeA), ham, 'ham'), /DidSet: local/);
  assert.deepEqual(await learned(), { spam_count: 0, ham_count: 1 });
  assert.match(await tellSpamd(address(nodeB), spam, 'spam'), /DidSet: local/);
  assert.deepEqual(await learned(), { spam_count: 1, ham_count: 1 }, 'node B learned into the same store');
  const seen = await sql<{ n: number }>`SELECT count(*)::int AS n FROM bayes_seen`.execute(db!);
  assert.equal(seen.rows[0]?.n, 2, 'both messages recorded as learned, whichever node learned them');
  // Node B already knows the ham node A learned: telling it again changes nothing.
  await tellSpamd(address(nodeB), ham, 'ham');
  assert.deepEqual(await learned(), { spam_count: 1, ham_count: 1 });
});
