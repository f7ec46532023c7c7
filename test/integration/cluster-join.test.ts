// `mailfilter cluster join|check|nodes|forget|leave` through the command itself, against a real
// PostgreSQL 15 on loopback with TLS: the errors an admin meets (wrong password, a certificate for
// another name, a CA not given, nothing listening), a join that creates the schema and copies the
// node's quarantine, one that finds it current, one that migrates an older schema and one refused
// by a newer, the node seen by its heartbeat, a dead node forgotten, and leaving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator, sql } from 'kysely';
import { openPostgres } from '../../runtime/storage/postgres.js';
import { openSharedDatabase, SHARED_MIGRATIONS, SHARED_SCHEMA_VERSION, type SharedTables } from '../../runtime/storage/shared-schema.js';
import { startHeartbeat } from '../../runtime/cluster/heartbeat.js';
import { loadConfig } from '../../runtime/config/load.js';
import type { AppConfig } from '../../runtime/config/schema.js';
import { logger } from '../../runtime/log.js';
import { QuarantineStore } from '../../runtime/quarantine/store.js';
import { ViewerAccounts } from '../../runtime/accounts/viewer-accounts.js';
import { SenderLists } from '../../runtime/lists/sender-lists.js';
import { openViewerDatabase, viewerKysely, type ViewerDatabase } from '../../runtime/storage/viewer-db.js';
import { checkSharedStorage } from '../../firstboot/shared-storage.js';
import { heldInput } from '../support/quarantine-contract.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { makeTestCerts } from '../support/tls.js';
import { freePort } from '../support/net.js';

const root = mkdtempSync(join(tmpdir(), 'mailfilter-join-'));
let server: TestPostgres | undefined;
const opened: Array<Kysely<SharedTables>> = [];
const beats: Array<{ stop(): Promise<void> }> = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The command as an admin runs it; resolves with its exit code and output (never rejects). */
function mailfilter(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'node',
      ['--import', 'tsx', 'runtime/cli.ts', ...args],
      { encoding: 'utf8', timeout: 180_000, env: { ...process.env, MAILFILTER_LOG_LEVEL: 'warn', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A node's own config file: its host name, quarantine folder and no Postfix of its own. */
function nodeConfig(name: string, more: Record<string, unknown> = {}): string {
  const dir = join(root, name);
  const file = join(root, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        network: { hostname: `${name}.company.com`, dhcp: false, address: '192.168.1.5', netmask: '255.255.255.0' },
        quarantine: { dir: join(dir, 'quarantine') },
        postfix: { configDir: join(dir, 'no-postfix') },
        viewer: { dataDir: join(dir, 'viewer'), tlsCert: '/etc/ssl/node.crt', tlsKey: '/etc/ssl/node.key' },
        ...more,
      },
      null,
      2,
    ),
    { mode: 0o640 },
  );
  return file;
}

/** `url` with another database (or password) in it. */
function urlFor(database: string, password?: string): string {
  const url = new URL(server!.url);
  url.pathname = `/${database}`;
  if (password !== undefined) url.password = password;
  return url.toString();
}

function database(name: string): Kysely<SharedTables> {
  const db = openPostgres<SharedTables>({ url: urlFor(name), caFile: server!.caFile, maxConnections: 2 });
  opened.push(db);
  return db;
}

/** The node's filter heartbeat, on a handle of its own on the database the config names. */
function filterHeartbeat(config: AppConfig): { stop(): Promise<void> } {
  const db = openSharedDatabase(config.storage, 'join-test', 1);
  opened.push(db);
  return startHeartbeat(config, db, logger('join-test'), 500);
}

/** Joins, starting the node's filter heartbeat (as the restarted filter would) once the config names the database. */
/** `mailfilter cluster join ARGS` for the node of configFile, rendering into the test's folder, restarting nothing. */
const runJoin = (configFile: string, args: string[]): Promise<Run> =>
  mailfilter(['cluster', 'join', ...args, '--config', configFile, '--root', join(root, 'rendered'), '--no-restart']);

async function joinWithHeartbeat(configFile: string, args: string[]): Promise<Run> {
  const joining = runJoin(configFile, args);
  let started = false;
  const starter = setInterval(() => {
    if (started) return;
    try {
      const config = loadConfig(configFile);
      if (config.storage.backend !== 'postgresql') return;
      started = true;
      beats.push(filterHeartbeat(config));
    } catch {
      // mid-write: the next tick reads it whole
    }
  }, 200);
  try {
    return await joining;
  } finally {
    clearInterval(starter);
  }
}

describe('mailfilter cluster: joining, listing and leaving the shared database', { timeout: 600_000 }, () => {
  before(async () => {
    server = await startPostgres(makeTestCerts(join(root, 'certs')));
    const admin = database('mailfilter');
    for (const name of ['older', 'newer']) await sql.raw(`CREATE DATABASE ${name}`).execute(admin);
  });

  after(async () => {
    for (const beat of beats) await beat.stop().catch(() => undefined);
    for (const db of opened) await db.destroy().catch(() => undefined);
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('the errors an admin meets say what is wrong, and change nothing', async () => {
    const configFile = nodeConfig('mx0');
    const before = readFileSync(configFile, 'utf8');
    const ca = ['--ca-file', server!.caFile];
    const wrongPassword = await runJoin(configFile, [urlFor('mailfilter', 'not-the-password'), ...ca]);
    assert.equal(wrongPassword.code, 1);
    assert.match(wrongPassword.stderr, /127\.0\.0\.1:\d+ refused the password for user "mailfilter": check the user and password/);
    assert.doesNotMatch(wrongPassword.stderr + wrongPassword.stdout, /not-the-password|cluster-secret/, 'the password is never shown');

    // 127.1 is 127.0.0.1 to the resolver, but not a name the server's certificate holds.
    const otherName = await mailfilter(['cluster', 'check', server!.url.replace('127.0.0.1', '127.1'), ...ca]);
    assert.equal(otherName.code, 1);
    assert.match(otherName.stderr, /the certificate of 127\.1:\d+ is not made out to "127\.1"/);

    const noCa = await mailfilter(['cluster', 'check', server!.url]);
    assert.equal(noCa.code, 1);
    assert.match(noCa.stderr, /is not signed by the system's CAs \(no CA file given\): name the CA that signed it \(--ca-file/);

    const port = await freePort();
    const nobody = await mailfilter(['cluster', 'check', server!.url.replace(`:${server!.port}/`, `:${port}/`), ...ca]);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, new RegExp(`nothing answers at 127\\.0\\.0\\.1:${port} \\(connection refused\\)`));

    const noDatabase = await mailfilter(['cluster', 'check', urlFor('nosuch'), ...ca]);
    assert.match(noDatabase.stderr, /has no database "nosuch"/);
    const plain = await mailfilter(['cluster', 'check', 'postgresql://u:p@db.company.local/x?sslmode=disable']);
    assert.match(plain.stderr, /storage\.url: must reach db\.company\.local over TLS/);
    const missingCa = await mailfilter(['cluster', 'check', server!.url, '--ca-file', join(root, 'no-such-ca.crt')]);
    assert.match(missingCa.stderr, /the CA file .*no-such-ca\.crt cannot be read \(ENOENT\)/);

    assert.equal(readFileSync(configFile, 'utf8'), before, 'the config file is untouched');
  });

  test('the first node creates the schema, copies its quarantine if told, and is listed by its heartbeat', async () => {
    const configFile = nodeConfig('mx1');
    const config = loadConfig(configFile);
    const local = QuarantineStore.open(config.quarantine.dir, 100);
    const spool = join(root, 'held.eml');
    for (let i = 1; i <= 2; i++) {
      writeFileSync(spool, `Subject: held on mx1 ${i}\r\n\r\nbody\r\n`);
      await local.add(spool, heldInput({ id: `mx1-${i}`, subject: `held on mx1 ${i}` }));
    }
    await local.close();
    // Its viewer has an account with a list entry: --copy brings the viewer's database along.
    const viewerDb = viewerKysely(openViewerDatabase(config.viewer.dataDir));
    const dora = await (
      await ViewerAccounts.open(viewerDb, 1)
    ).create({ username: 'dora', password: 'dora-password-1', source: 'local', addresses: ['dora@company.com'] });
    await new SenderLists(viewerDb).add({ ownerId: dora.id, kind: 'allow', pattern: 'pal@partner.example', expiresAt: null, createdBy: 'dora' });
    await viewerDb.destroy();

    // No terminal to ask on: the held messages need an answer given as an option.
    const unanswered = await runJoin(configFile, [server!.url, '--ca-file', server!.caFile]);
    assert.equal(unanswered.code, 1);
    assert.match(unanswered.stderr, /holds 2 message\(s\) in its own quarantine and 2 viewer account\(s\).*answer with --copy or --no-copy/);

    const joined = await joinWithHeartbeat(configFile, [server!.url, '--ca-file', server!.caFile, '--copy']);
    assert.equal(joined.code, 0, joined.stderr);
    assert.match(joined.stdout, /PostgreSQL 15\.\d+ at 127\.0\.0\.1:\d+\/mailfilter: no mailfilter schema yet; this node creates it/);
    assert.match(joined.stdout, new RegExp(`Schema brought to version ${SHARED_SCHEMA_VERSION}\\.`));
    assert.match(joined.stdout, /quarantine: 2 message\(s\) copied, 0 already there/);
    assert.match(joined.stdout, /viewer: 2 user\(s\) copied, 0 already there/);
    assert.match(joined.stdout, /Wrote .*rendered\/etc\/spamassassin\/shared-bayes\.cf\./);
    assert.match(joined.stdout, /Not restarting anything \(--no-restart\): restart spamd, mailfilter-filter, mailfilter-viewer, mailfilter-fetch/);
    assert.match(joined.stdout, /Joined: mx1\.company\.com: up, last heartbeat \d+ s ago, release \d+\.\d+\.\d+, queue unknown/);
    assert.match(joined.stdout, /Connecting to postgresql:\/\/mailfilter:\*{8}@127\.0\.0\.1/);
    assert.doesNotMatch(joined.stdout, /cluster-secret/);

    // Only storage changed in the node's file; its own settings and the file's mode are as they were.
    const written = JSON.parse(readFileSync(configFile, 'utf8'));
    assert.deepEqual(written.storage, { backend: 'postgresql', url: server!.url, caFile: server!.caFile });
    assert.equal(written.network.hostname, 'mx1.company.com');
    assert.equal(written.network.address, '192.168.1.5');
    assert.equal(written.viewer.tlsCert, '/etc/ssl/node.crt');
    assert.equal(statSync(configFile).mode & 0o777, 0o640);
    const bayes = readFileSync(join(root, 'rendered/etc/spamassassin/shared-bayes.cf'), 'utf8');
    assert.match(bayes, /bayes_store_module Mail::SpamAssassin::BayesStore::PgSQL/);
    assert.equal(statSync(join(root, 'rendered/etc/spamassassin/shared-bayes.cf')).mode & 0o777, 0o600);

    const shared = QuarantineStore.shared(database('mailfilter'), 100);
    assert.equal((await shared.get('mx1-2'))?.subject, 'held on mx1 2');
    const sharedViewer = database('mailfilter') as unknown as ViewerDatabase;
    const sharedDora = (await ViewerAccounts.on(sharedViewer, 1).findByName('dora'))!;
    assert.deepEqual(sharedDora.addresses, ['dora@company.com']);
    assert.deepEqual(
      (await new SenderLists(sharedViewer).list(sharedDora.id)).map((e) => e.pattern),
      ['pal@partner.example'],
    );

    const nodes = await mailfilter(['cluster', 'nodes', '--config', configFile]);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.match(nodes.stdout, /schema version \d+, the same as this release's/);
    assert.match(nodes.stdout, /^mx1\.company\.com: up, last heartbeat \d+ s ago, release \d+\.\d+\.\d+, queue unknown$/m);
  });

  test('a second node finds the schema current and leaves its quarantine where it is when told; a namesake is refused', async () => {
    const twin = nodeConfig('mx1-twin', { network: { hostname: 'mx1.company.com' } });
    const refused = await runJoin(twin, [server!.url, '--ca-file', server!.caFile]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /a node named mx1\.company\.com is already there and up: every node needs a host name of its own/);

    const configFile = nodeConfig('mx2');
    const config = loadConfig(configFile);
    const local = QuarantineStore.open(config.quarantine.dir, 100);
    writeFileSync(join(root, 'mx2.eml'), 'Subject: held on mx2\r\n\r\nbody\r\n');
    await local.add(join(root, 'mx2.eml'), heldInput({ id: 'mx2-1', subject: 'held on mx2' }));
    await local.close();
    // The URL from the environment keeps the password out of the process list.
    const joined = await joinWithHeartbeat(configFile, ['--ca-file', server!.caFile, '--no-copy']);
    assert.equal(joined.code, 1, 'no URL given and none in the environment');
    assert.match(joined.stderr, /cluster join needs the database's URL/);
    const env = { MAILFILTER_STORAGE_URL: server!.url };
    const joining = mailfilter(
      ['cluster', 'join', '--ca-file', server!.caFile, '--no-copy', '--config', configFile, '--root', join(root, 'rendered2'), '--no-restart'],
      env,
    );
    await waitUntil(() => loadConfig(configFile).storage.backend === 'postgresql');
    beats.push(filterHeartbeat(loadConfig(configFile)));
    const second = await joining;
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /schema version \d+, the same as this release's/);
    assert.doesNotMatch(second.stdout, /Schema brought to version/);
    assert.match(second.stdout, /^ {2}mx1\.company\.com: up/m, 'the nodes already there are shown');
    assert.match(second.stdout, /Not copying: the 1 message\(s\) stay in /);
    assert.match(second.stdout, /Joined: mx2\.company\.com: up/);
    const shared = QuarantineStore.shared(database('mailfilter'), 100);
    assert.equal(await shared.get('mx2-1'), undefined);
  });

  test('an older schema is brought up to date by the joining node; a newer one is refused with "upgrade this node"', async () => {
    const keys = Object.keys(SHARED_MIGRATIONS).sort();
    const older = database('older');
    const migrator = new Migrator({
      db: older,
      provider: { getMigrations: () => Promise.resolve(SHARED_MIGRATIONS) },
      migrationTableName: 'mailfilter_migrations',
      migrationLockTableName: 'mailfilter_migration_lock',
    });
    const partial = await migrator.migrateTo(keys[1]!);
    assert.equal(partial.error, undefined);
    const configFile = nodeConfig('mx3');
    const joined = await joinWithHeartbeat(configFile, [urlFor('older'), '--ca-file', server!.caFile]);
    assert.equal(joined.code, 0, joined.stderr);
    assert.match(
      joined.stdout,
      new RegExp(`schema version 2, this release's is ${SHARED_SCHEMA_VERSION}; this node brings it up to date under the migration lock`),
    );
    assert.match(joined.stdout, new RegExp(`Schema brought to version ${SHARED_SCHEMA_VERSION}\\.`));
    const applied = await sql<{ name: string }>`SELECT name FROM mailfilter_migrations`.execute(older);
    assert.equal(applied.rows.length, SHARED_SCHEMA_VERSION);

    const newer = database('newer');
    await new Migrator({
      db: newer,
      provider: { getMigrations: () => Promise.resolve(SHARED_MIGRATIONS) },
      migrationTableName: 'mailfilter_migrations',
      migrationLockTableName: 'mailfilter_migration_lock',
    }).migrateToLatest();
    await sql`INSERT INTO mailfilter_migrations (name, timestamp) VALUES ('9999-from-a-newer-release', ${new Date().toISOString()})`.execute(newer);
    const configFile4 = nodeConfig('mx4');
    const before = readFileSync(configFile4, 'utf8');
    const refused = await runJoin(configFile4, [urlFor('newer'), '--ca-file', server!.caFile]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /newer than this release's \d+ \(9999-from-a-newer-release unknown here\)\. A newer release migrated it: upgrade this node to that release first, then join/,
    );
    assert.equal(readFileSync(configFile4, 'utf8'), before);
  });

  test('the wizard’s check connects as typed and reports the schema, or the problem', () => {
    const ok = checkSharedStorage(server!.url, server!.caFile);
    assert.equal(ok.error, undefined);
    assert.match(ok.found!, /schema version \d+, the same as this release's/);
    const wrong = checkSharedStorage(urlFor('mailfilter', 'nope'), server!.caFile);
    assert.match(wrong.error!, /refused the password for user "mailfilter"/);
    assert.doesNotMatch(wrong.error!, /nope/);
  });

  test('a dead node is forgotten, a live one only on purpose; leaving returns the node to its own quarantine', async () => {
    const mx1 = join(root, 'mx1.json');
    const db = database('mailfilter');
    await sql`INSERT INTO cluster_nodes (name, version, started_at, heartbeat_at, queue_size) VALUES ('dead.company.com', '0.0.9', 0, 0, 7)`.execute(db);
    const listed = await mailfilter(['cluster', 'nodes', '--config', mx1]);
    assert.match(listed.stdout, /^dead\.company\.com: NOT HEARD FROM, last heartbeat \d+ days ago, release 0\.0\.9, 7 in the Postfix queue$/m);
    const forgot = await mailfilter(['cluster', 'forget', 'dead.company.com', '--config', mx1]);
    assert.equal(forgot.code, 0, forgot.stderr);
    assert.match(forgot.stdout, /dead\.company\.com is off the list of nodes/);
    const alive = await mailfilter(['cluster', 'forget', 'mx2.company.com', '--config', mx1]);
    assert.equal(alive.code, 1);
    assert.match(alive.stderr, /mx2\.company\.com: up, .*: it is running\. Run `mailfilter cluster leave` on it/);
    const self = await mailfilter(['cluster', 'forget', 'mx1.company.com', '--config', mx1]);
    assert.match(self.stderr, /mx1\.company\.com is this node: `mailfilter cluster leave` takes it out/);

    // mx1's filter goes back to SQLite with the restart: its heartbeat stops.
    await beats.shift()!.stop();
    const left = await mailfilter(['cluster', 'leave', '--config', mx1, '--root', join(root, 'rendered'), '--no-restart']);
    assert.equal(left.code, 0, left.stderr);
    assert.match(left.stdout, /Wrote storage\.backend "sqlite"/);
    assert.match(left.stdout, /mx1\.company\.com is off the list of nodes/);
    assert.match(left.stdout, /What stays in the shared database: its quarantine \(2 message\(s\), those held through this node included/);
    assert.match(left.stdout, /keeps its own quarantine in .*mx1\/quarantine again/);
    assert.equal(loadConfig(mx1).storage.backend, 'sqlite');
    assert.doesNotMatch(readFileSync(join(root, 'rendered/etc/spamassassin/shared-bayes.cf'), 'utf8'), /PgSQL/);
    const remaining = await mailfilter(['cluster', 'nodes', '--config', join(root, 'mx2.json')]);
    assert.doesNotMatch(remaining.stdout, /mx1\.company\.com/);
    assert.match(remaining.stdout, /mx2\.company\.com: up/);
    const again = await mailfilter(['cluster', 'leave', '--config', mx1, '--root', join(root, 'rendered'), '--no-restart']);
    assert.match(again.stderr, /this node shares no database/);
  });
});

async function waitUntil(ready: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (ready()) return;
    } catch {
      // a file mid-write
    }
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
