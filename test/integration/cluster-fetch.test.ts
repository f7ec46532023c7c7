// Fetch mode on several appliances sharing one PostgreSQL (Debian's 15 on loopback, TLS): a real
// Dovecot, two fetchers as two nodes (their own host names and state folders, one shared database)
// and the real Postfix + filter chain to the sink. Each mailbox is polled by one node at a time,
// what was fetched is shared, and a node killed mid-poll is taken over once its lease runs out.
// (Both fetchers hand their mail to the one chain's Postfix: which Postfix takes it does not
// change what is fetched.) An appliance that fetched on its own and then joins (`storage migrate`)
// does not fetch what it fetched before again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startChain, type Chain } from '../support/chain.js';
import { startDovecot, type Dovecot } from '../support/dovecot.js';
import { copiesAtSink, everyOneArrives, fillMailbox, writeFetchAccounts, type MailboxSpec } from '../support/fetch-mailboxes.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { makeTestCerts, type TestCerts } from '../support/tls.js';
import { waitFor } from '../support/net.js';
import { startFetcher, type Fetcher, type PollOutcome } from '../../runtime/fetch/daemon.js';
import { SeenState } from '../../runtime/fetch/seen-state.js';
import { readSetAside, seenStatePath } from '../../runtime/fetch/set-aside.js';
import type { AppConfig } from '../../runtime/config/schema.js';
import { migrateToShared } from '../../runtime/storage/migrate-to-shared.js';
import { openPostgres } from '../../runtime/storage/postgres.js';
import { migrateShared, type SharedTables } from '../../runtime/storage/shared-schema.js';

const REPO = resolve(import.meta.dirname, '../..');
const LEASE_SECONDS = 3;

let chain: Chain;
let dovecot: Dovecot;
let certs: TestCerts;
let postgres: TestPostgres;

before(
  async () => {
    chain = await startChain();
    certs = makeTestCerts(join(chain.dir, 'certs'));
    postgres = await startPostgres(certs);
    const users = ['shared', 'sharedkeep', 'killed', 'joined'].map((name) => `${name}@company.com`);
    dovecot = await startDovecot(join(chain.dir, 'dovecot'), certs, Object.fromEntries(users.map((user) => [user, `pw-${user}`])));
  },
  { timeout: 240_000 },
);

after(async () => {
  await dovecot?.stop();
  await postgres?.stop();
  await chain?.stop();
});

/** A node's config: its own host name and state folder, the shared database, these mailboxes. */
function nodeConfig(node: string, boxes: MailboxSpec[]): AppConfig {
  const dir = join(chain.dir, 'fetch', node);
  mkdirSync(dir, { recursive: true });
  writeFetchAccounts(join(dir, 'accounts.json'), dovecot, certs.caCert, boxes);
  return {
    ...chain.config,
    network: { ...chain.config.network, hostname: `${node}.company.com` },
    storage: { backend: 'postgresql', url: postgres.url, caFile: postgres.caFile },
    fetch: { ...chain.config.fetch, stateDir: join(dir, 'state'), accountsFile: join(dir, 'accounts.json'), leaseSeconds: LEASE_SECONDS },
  };
}

const fill = (user: string, count: number, tag: string) => fillMailbox(dovecot, user, count, tag);

const fetchedBy = (outcomes: PollOutcome[]) => outcomes.reduce((sum, o) => sum + (o.summary?.fetched ?? 0), 0);

test('two nodes polling the same mailboxes at once: one polls each, and every message arrives exactly once', { timeout: 400_000 }, async (t) => {
  const boxes: MailboxSpec[] = [
    { user: 'shared@company.com', protocol: 'pop3', keep: false },
    { user: 'sharedkeep@company.com', protocol: 'imap', keep: true },
  ];
  const popSubjects = fill('shared@company.com', 40, 'two nodes pop');
  const imapSubjects = fill('sharedkeep@company.com', 40, 'two nodes imap');
  const nodes: Fetcher[] = ['mx-a', 'mx-b'].map((node) => startFetcher(nodeConfig(node, boxes), { schedule: false }));
  t.after(() => Promise.all(nodes.map((n) => n.close())));

  const rounds: PollOutcome[][][] = [];
  for (let round = 0; round < 3; round++) rounds.push(await Promise.all(nodes.map((n) => n.pollNow())));
  const first = rounds[0]!.flat();
  for (const outcome of first) assert.equal(outcome.ok, true, JSON.stringify(outcome));
  // In the first round each mailbox was polled by one node; the other found its lease taken.
  for (const account of new Set(first.map((o) => o.account))) {
    const polls = first.filter((o) => o.account === account);
    assert.equal(polls.filter((o) => o.summary).length, 1, `${account}: ${JSON.stringify(polls)}`);
    assert.match(polls.find((o) => !o.summary)?.polledBy ?? '', /^mx-[ab]\.company\.com \(pid \d+\)$/);
  }
  assert.equal(fetchedBy(rounds.flat(2)), 80, 'each message fetched once over all rounds and nodes');
  // Keep on: the messages stay on the IMAP server, and the node that did not fetch them knows.
  assert.equal(dovecot.count('sharedkeep@company.com'), 40);
  assert.equal(dovecot.count('shared@company.com'), 0);
  for (const node of nodes) assert.equal(fetchedBy(await node.pollNow()), 0, 'polled again by each node alone: nothing new');

  const copies = await everyOneArrives(chain.sink, [...popSubjects, ...imapSubjects]);
  assert.equal(copies.duplicates, 0, 'no message delivered twice');
});

test(
  'the lease holder killed mid-poll: the other node takes over once its lease runs out and fetches the rest; nothing is lost',
  { timeout: 400_000 },
  async (t) => {
    const box: MailboxSpec = { user: 'killed@company.com', protocol: 'pop3', keep: false };
    const subjects = fill(box.user, 150, 'killed node');
    const configA = nodeConfig('mx-dies', [box]);
    const configFile = join(chain.dir, 'fetch', 'mx-dies', 'mailfilter.json');
    writeFileSync(configFile, JSON.stringify(configA));
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'runtime/cli.ts'), 'fetch', '--config', configFile], {
      cwd: REPO,
      env: { ...process.env, MAILFILTER_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    t.after(() => void child.kill('SIGKILL'));
    await waitFor('node A to start polling', () => stderr.includes('new messages'), 60_000, 20);
    await waitFor('node A to have fetched some', () => copiesAtSink(chain.sink, subjects).missing.length < 140, 120_000, 20);
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await exited;
    // POP3 commits deletes at QUIT, which a killed node never sends: what it fetched is still on the
    // server, recorded as seen in the shared database.
    const delivered = 150 - copiesAtSink(chain.sink, subjects).missing.length;

    const b = startFetcher(nodeConfig('mx-takes-over', [box]), { schedule: false });
    t.after(() => b.close());
    const [blocked] = await b.pollNow();
    if (Date.now() - killedAt < LEASE_SECONDS * 1000 - 200) {
      assert.equal(blocked?.summary, undefined, `not before the dead node's lease runs out: ${JSON.stringify(blocked)}`);
      assert.match(blocked?.polledBy ?? '', /^mx-dies\.company\.com \(pid \d+\)$/);
    }
    const outcome = await waitFor(
      'node B to take the mailbox over',
      async () => {
        const [o] = await b.pollNow();
        return o?.summary ? o : undefined;
      },
      60_000,
      500,
    );
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    assert.ok(
      outcome.summary!.alreadySeen >= delivered - 1,
      `what node A delivered is known to B: ${JSON.stringify(outcome.summary)} (A delivered ${delivered})`,
    );
    assert.equal(dovecot.count(box.user), 0, 'emptied');
    const copies = await everyOneArrives(chain.sink, subjects);
    t.diagnostic(`node A delivered ${delivered} of 150 before the kill; B fetched ${outcome.summary!.fetched}; duplicates: ${copies.duplicates}`);
    // Only a kill landing between Postfix's 250 and the record can cost one, as on one appliance.
    assert.ok(copies.duplicates <= 1, `at most the message in flight: ${copies.duplicates}`);
  },
);

test(
  'an appliance that fetched on its own (keep on the server) and is migrated to the shared database fetches only the new message, not the old ones again',
  { timeout: 400_000 },
  async (t) => {
    const box: MailboxSpec = { user: 'joined@company.com', protocol: 'imap', keep: true };
    const old = fill(box.user, 3, 'before joining');
    // The appliance alone: its own seen.sqlite, the shared database only named (as before `storage migrate`).
    const pg = nodeConfig('mx-joins', [box]);
    const alone: AppConfig = { ...pg, storage: { ...pg.storage, backend: 'sqlite' } };
    const single = startFetcher(alone, { schedule: false });
    const [first] = await single.pollNow().finally(() => single.close());
    assert.equal(first?.summary?.fetched, 3, JSON.stringify(first));
    const key = first!.account;
    // A set-aside message of another mailbox here, and, in the shared database, a failure recorded
    // by another node for a message this appliance fetched (a seen message is failing no more).
    const local = SeenState.open(seenStatePath(alone.fetch.stateDir));
    await local.recordFailure('pop3://gone@127.0.0.1:1', 'u-1', 'server kept answering -ERR', 1);
    await local.close();
    const db = openPostgres<SharedTables>({ url: postgres.url, caFile: postgres.caFile, applicationName: 'test', maxConnections: 1 });
    t.after(() => db.destroy());
    await migrateShared(db);
    assert.equal(
      (await db.selectFrom('seen').select('uid').where('account', '=', key).execute()).length,
      0,
      'the shared database knows nothing of this mailbox yet',
    );
    const seenHere = new Database(seenStatePath(alone.fetch.stateDir));
    const { uid } = seenHere.prepare('SELECT uid FROM seen WHERE account = ? LIMIT 1').get(key) as { uid: string };
    seenHere.close();
    const now = Date.now();
    await db
      .insertInto('failures')
      .values({ account: key, uid, streak: 3, last_error: 'timed out', first_failed_at: now, last_failed_at: now, set_aside_at: now })
      .execute();
    await everyOneArrives(chain.sink, old);

    const added = fill(box.user, 1, 'after joining');
    const lines: string[] = [];
    await migrateToShared(alone, (line) => lines.push(line));
    assert.ok(lines.includes('fetch: 3 seen message(s) in 1 mailbox(es) copied, 0 already there'), lines.join('\n'));
    assert.ok(
      lines.some((line) => line.startsWith('fetch: 1 failing message(s) copied, 1 of them set aside')),
      lines.join('\n'),
    );
    const again: string[] = [];
    await migrateToShared(alone, (line) => again.push(line));
    assert.ok(again.includes('fetch: 0 seen message(s) in 0 mailbox(es) copied, 3 already there'), again.join('\n'));
    assert.ok(
      again.some((line) => line.startsWith('fetch: 0 failing message(s) copied, 0 of them set aside; 1 already there')),
      again.join('\n'),
    );
    assert.deepEqual(
      (await readSetAside(pg)).messages.map((m) => [m.account, m.uid]),
      [['pop3://gone@127.0.0.1:1', 'u-1']],
      'the set-aside message is the cluster’s now',
    );

    // The same appliance in PostgreSQL mode (its seen.sqlite out of the way, so only the shared database speaks).
    const joined = startFetcher({ ...pg, fetch: { ...pg.fetch, stateDir: join(chain.dir, 'fetch', 'mx-joins', 'state-after') } }, { schedule: false });
    t.after(() => joined.close());
    const [poll] = await joined.pollNow();
    assert.equal(poll?.ok, true, JSON.stringify(poll));
    assert.equal(poll?.account, key);
    assert.deepEqual({ fetched: poll?.summary?.fetched, alreadySeen: poll?.summary?.alreadySeen }, { fetched: 1, alreadySeen: 3 }, JSON.stringify(poll));
    assert.equal(dovecot.count(box.user), 4, 'kept on the server');
    const copies = await everyOneArrives(chain.sink, [...old, ...added]);
    assert.equal(copies.duplicates, 0, 'nothing delivered twice');
  },
);
