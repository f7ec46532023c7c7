// Fetch mode end to end: a real Dovecot (POP3 over implicit TLS, IMAP over STARTTLS, certificates
// verified against a test CA) -> `mailfilter fetch` -> the real Postfix + filter chain -> the sink.
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startChain, type Chain } from '../support/chain.js';
import { startDovecot, type Dovecot } from '../support/dovecot.js';
import { everyOneArrives, fillMailbox, writeFetchAccounts, type MailboxSpec } from '../support/fetch-mailboxes.js';
import { makeTestCerts, type TestCerts } from '../support/tls.js';
import { buildMessage } from '../support/messages.js';
import { waitFor } from '../support/net.js';
import { startFetcher, type Fetcher, type PollOutcome } from '../../runtime/fetch/daemon.js';
import { QuarantineStore } from '../../runtime/quarantine/store.js';
import type { AppConfig } from '../../runtime/config/schema.js';

const REPO = resolve(import.meta.dirname, '../..');
// Small enough that an oversized message stays quick to build; the 2 MB single-line one still fits.
const MAX_MESSAGE_BYTES = 3_000_000;

let chain: Chain;
let dovecot: Dovecot;
let certs: TestCerts;
let fetchDir: string;

before(
  async () => {
    chain = await startChain({ filter: { maxMessageBytes: MAX_MESSAGE_BYTES } });
    fetchDir = join(chain.dir, 'fetch');
    certs = makeTestCerts(join(chain.dir, 'certs'));
    const users = ['popkeep', 'imapkeep', 'popdel', 'imapdel', 'good', 'badpw', 'badpop', 'badimap', 'stoppop', 'killpop'].map((name) => `${name}@company.com`);
    dovecot = await startDovecot(join(chain.dir, 'dovecot'), certs, Object.fromEntries(users.map((user) => [user, `pw-${user}`])));
  },
  { timeout: 240_000 },
);

after(async () => {
  await dovecot?.stop();
  await chain?.stop();
});

function fetchConfigFor(name: string, mailboxes: MailboxSpec[], overrides: { verify?: boolean; ca?: boolean } = {}): AppConfig {
  const dir = join(fetchDir, name);
  mkdirSync(dir, { recursive: true });
  writeFetchAccounts(join(dir, 'accounts.json'), dovecot, certs.caCert, mailboxes, overrides);
  return { ...chain.config, fetch: { ...chain.config.fetch, stateDir: join(dir, 'state'), accountsFile: join(dir, 'accounts.json') } };
}

function fetcherFor(name: string, mailboxes: MailboxSpec[], overrides: { verify?: boolean; ca?: boolean } = {}): { fetcher: Fetcher; config: AppConfig } {
  const config = fetchConfigFor(name, mailboxes, overrides);
  return { fetcher: startFetcher(config, { schedule: false }), config };
}

const fill = (user: string, count: number, tag: string) => fillMailbox(dovecot, user, count, tag);

const fetched = (outcomes: PollOutcome[]) => outcomes.map((o) => [o.ok, o.summary?.fetched ?? o.error]);

async function allArrive(subjects: string[], to: string) {
  for (const subject of subjects) {
    const message = await chain.sink.waitFor((m) => m.raw.includes(subject));
    assert.deepEqual(message.to, [to]);
    assert.match(message.raw, /X-Virus-Scanned: mailfilter at company\.com/, 'it went through the filter');
  }
}

test('keep on: POP3 and IMAP mail arrives once; later polls and a restart fetch nothing new', async () => {
  const popSubjects = fill('popkeep@company.com', 3, 'pop keep');
  const imapSubjects = fill('imapkeep@company.com', 3, 'imap keep');
  const mailboxes: MailboxSpec[] = [
    { user: 'popkeep@company.com', protocol: 'pop3', keep: true },
    { user: 'imapkeep@company.com', protocol: 'imap', keep: true },
  ];
  const first = fetcherFor('keep', mailboxes);
  assert.deepEqual(fetched(await first.fetcher.pollNow()), [
    [true, 3],
    [true, 3],
  ]);
  await allArrive(popSubjects, 'popkeep@company.local');
  await allArrive(imapSubjects, 'imapkeep@company.local');
  assert.equal(dovecot.count('popkeep@company.com'), 3, 'keep: still on the server');
  assert.equal(dovecot.count('imapkeep@company.com'), 3);
  assert.deepEqual(fetched(await first.fetcher.pollNow()), [
    [true, 0],
    [true, 0],
  ]);
  await first.fetcher.close();

  const restarted = fetcherFor('keep', mailboxes);
  assert.deepEqual(fetched(await restarted.fetcher.pollNow()), [
    [true, 0],
    [true, 0],
  ]);
  const newOne = fill('imapkeep@company.com', 1, 'imap keep later');
  assert.deepEqual(fetched(await restarted.fetcher.pollNow()), [
    [true, 0],
    [true, 1],
  ]);
  await allArrive(newOne, 'imapkeep@company.local');
  await restarted.fetcher.close();
  for (const subject of [...popSubjects, ...imapSubjects]) {
    assert.equal(chain.sink.messages.filter((m) => m.raw.includes(subject)).length, 1, `${subject} delivered exactly once`);
  }
});

test('keep off: mailboxes are emptied only after Postfix accepted; with Postfix stopped nothing is deleted', async () => {
  const { fetcher } = fetcherFor('delete', [
    { user: 'popdel@company.com', protocol: 'pop3', keep: false },
    { user: 'imapdel@company.com', protocol: 'imap', keep: false },
  ]);
  try {
    const popSubjects = fill('popdel@company.com', 2, 'pop delete');
    const imapSubjects = fill('imapdel@company.com', 2, 'imap delete');

    await chain.postfix.stop();
    let outcomes: PollOutcome[];
    try {
      outcomes = await fetcher.pollNow();
    } finally {
      await chain.postfix.start();
    }
    assert.ok(
      outcomes.every((o) => !o.ok && /local Postfix did not take the message/.test(o.error ?? '')),
      JSON.stringify(outcomes),
    );
    assert.equal(dovecot.count('popdel@company.com'), 2, 'nothing deleted while Postfix was down');
    assert.equal(dovecot.count('imapdel@company.com'), 2);

    assert.deepEqual(fetched(await fetcher.pollNow()), [
      [true, 2],
      [true, 2],
    ]);
    await allArrive(popSubjects, 'popdel@company.local');
    await allArrive(imapSubjects, 'imapdel@company.local');
    assert.equal(dovecot.count('popdel@company.com'), 0);
    assert.equal(dovecot.count('imapdel@company.com'), 0);
  } finally {
    await fetcher.close();
  }
});

test('a wrong password or a bad certificate on one account does not stop the others', async () => {
  const subjects = fill('good@company.com', 1, 'good account');
  fill('badpw@company.com', 1, 'bad account');
  const { fetcher } = fetcherFor('mixed', [
    { user: 'badpw@company.com', protocol: 'imap', keep: true, password: 'wrong' },
    { user: 'good@company.com', protocol: 'pop3', keep: true },
  ]);
  const outcomes = await fetcher.pollNow();
  await fetcher.close();
  assert.equal(outcomes[0]?.ok, false);
  assert.match(outcomes[0]?.error ?? '', /login refused .*check the user and password/);
  assert.deepEqual(fetched(outcomes.slice(1)), [[true, 1]]);
  await allArrive(subjects, 'good@company.local');

  const untrusted = fetcherFor('untrusted', [{ user: 'good@company.com', protocol: 'pop3', keep: true }], { ca: false });
  const [tlsOutcome] = await untrusted.fetcher.pollNow();
  await untrusted.fetcher.close();
  assert.equal(tlsOutcome?.ok, false);
  assert.match(tlsOutcome?.error ?? '', /TLS failed .*certificate/i);
});

/** Good messages around four bad ones; returns the subjects of each kind. */
function fillWithBadOnes(user: string, tag: string) {
  const good = [0, 1, 2].map((i) => `${tag} good ${i} ${Date.now()}`);
  const oversized = `${tag} oversized ${Date.now()}`;
  const refusedSender = `${tag} from root@localhost ${Date.now()}`;
  const longLine = `${tag} one 2 MB line ${Date.now()}`;
  const deliver = (raw: string) => dovecot.deliver(user, raw);
  deliver(buildMessage({ subject: good[0], to: user }));
  deliver(buildMessage({ subject: oversized, to: user, attachments: [{ filename: 'big.bin', content: randomBytes(MAX_MESSAGE_BYTES) }] }));
  // No Return-Path: the envelope sender is root@localhost, which Postfix refuses (504, not fully qualified).
  deliver(buildMessage({ subject: refusedSender, to: user, from: 'root@localhost' }));
  deliver(buildMessage({ subject: good[1], to: user }));
  deliver(buildMessage({ subject: longLine, to: user, body: 'x'.repeat(2 * 1024 * 1024) }));
  deliver('');
  deliver(buildMessage({ subject: good[2], to: user }));
  return { good, oversized, refusedSender, longLine, total: 7 };
}

test(
  'bad messages (oversized, refused sender, a 2 MB line, empty) get an outcome in the first poll and do not hold up the good ones',
  { timeout: 300_000 },
  async () => {
    const pop = fillWithBadOnes('badpop@company.com', 'pop bad');
    const imap = fillWithBadOnes('badimap@company.com', 'imap bad');
    const { fetcher, config } = fetcherFor('bad', [
      { user: 'badpop@company.com', protocol: 'pop3', keep: false },
      { user: 'badimap@company.com', protocol: 'imap', keep: false },
    ]);
    const store = QuarantineStore.open(config.quarantine.dir, config.quarantine.maxSizeMb);
    try {
      const outcomes = await fetcher.pollNow();
      for (const outcome of outcomes) {
        assert.equal(outcome.ok, true, JSON.stringify(outcome));
        const summary = outcome.summary!;
        assert.equal(summary.failed, 0, JSON.stringify(summary));
        assert.equal(summary.fetched + summary.refused, pop.total, 'every message has its outcome');
        assert.ok(summary.refused >= 2, JSON.stringify(summary));
      }
      assert.equal(dovecot.count('badpop@company.com'), 0, 'keep off: POP3 deletes committed, refused ones too');
      assert.equal(dovecot.count('badimap@company.com'), 0);
      await allArrive(pop.good, 'badpop@company.local');
      await allArrive(imap.good, 'badimap@company.local');

      for (const [kind, to] of [
        [pop, 'badpop@company.local'],
        [imap, 'badimap@company.local'],
      ] as const) {
        const refused = (await store.list({ addresses: [to], limit: 100 })).filter((e) => (e.reason as string) === 'REFUSED');
        const refusedSubject = (subject: string) => refused.find((e) => e.subject === subject);
        assert.match(
          refusedSubject(kind.oversized)?.detail ?? 'missing',
          /^local Postfix refused it when fetched: 552 /,
          "oversized: kept in the quarantine with Postfix's answer",
        );
        assert.match(refusedSubject(kind.refusedSender)?.detail ?? 'missing', /504 .*root@localhost/);
        // The long line is Postfix's to fold or refuse; either way it is not left behind.
        // It may still be on its way through the filter when the small ones have arrived.
        await waitFor(
          'the 2 MB line to have an outcome (delivered or held)',
          async () =>
            chain.sink.messages.some((m) => m.raw.includes(kind.longLine)) ||
            (await store.list({ addresses: [to], limit: 100 })).some((e) => e.subject === kind.longLine),
          60_000,
          250,
        );
      }
      assert.deepEqual(readdirSync(join(config.fetch.stateDir, 'tmp')), [], 'nothing left in transit');
      const again = await fetcher.pollNow();
      assert.deepEqual(
        again.map((o) => [o.ok, o.summary?.fetched, o.summary?.refused, o.summary?.failed]),
        [
          [true, 0, 0, 0],
          [true, 0, 0, 0],
        ],
        'not retried',
      );
    } finally {
      await store.close();
      await fetcher.close();
    }
  },
);

/** `mailfilter fetch` as systemd runs it, on this test's config. */
function spawnFetch(
  config: AppConfig,
  name: string,
): { child: ChildProcess; stderr: () => string; exited: Promise<{ code: number | null; signal: string | null; at: number }> } {
  const configFile = join(fetchDir, name, 'mailfilter.json');
  writeFileSync(configFile, JSON.stringify(config));
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'runtime/cli.ts'), 'fetch', '--config', configFile], {
    cwd: REPO,
    env: { ...process.env, MAILFILTER_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, stderr: () => stderr, exited };
}

/** A `mailfilter fetch` child started on a POP3 mailbox (keep off) of `count` new messages, once its poll has begun. */
async function pollingChild(t: TestContext, name: string, user: string, count: number) {
  const subjects = fill(user, count, name);
  const config = fetchConfigFor(name, [{ user, protocol: 'pop3', keep: false }]);
  const run = spawnFetch(config, name);
  t.after(() => void run.child.kill('SIGKILL'));
  await waitFor('the poll to start', () => run.stderr().includes('new messages'), 60_000, 20);
  return { subjects, transitDir: join(config.fetch.stateDir, 'tmp'), run };
}

test('SIGTERM mid-poll: the fetcher finishes the message in flight, QUITs and exits within 5 s; nothing is lost', { timeout: 400_000 }, async (t) => {
  const { subjects, transitDir, run } = await pollingChild(t, 'sigterm', 'stoppop@company.com', 300);
  // Modes of the files in transit, sampled while the poll runs.
  const modes = new Set<number>();
  const sampler = setInterval(() => {
    for (const name of (() => {
      try {
        return readdirSync(transitDir);
      } catch {
        return [];
      }
    })()) {
      try {
        modes.add(statSync(join(transitDir, name)).mode & 0o777);
      } catch {
        /* gone already */
      }
    }
  }, 5);
  await new Promise((r) => setTimeout(r, 1000));
  const sentAt = Date.now();
  run.child.kill('SIGTERM');
  const exit = await run.exited;
  clearInterval(sampler);
  assert.equal(exit.code, 0, run.stderr());
  assert.ok(exit.at - sentAt < 5000, `exited ${exit.at - sentAt} ms after SIGTERM`);
  assert.doesNotMatch(run.stderr(), /DEP0123/, 'no SNI warning for an IP address');
  assert.ok(
    [...modes].every((mode) => mode === 0o600),
    `files in transit are 0600: ${[...modes].map((m) => m.toString(8))}`,
  );
  const left = dovecot.count('stoppop@company.com');
  assert.ok(left > 0 && left < 300, `stopped mid-poll, its DELEs committed (${left} left)`);
  assert.deepEqual(readdirSync(transitDir), []);

  const { fetcher } = fetcherFor('sigterm', [{ user: 'stoppop@company.com', protocol: 'pop3', keep: false }]);
  try {
    const [outcome] = await fetcher.pollNow();
    assert.equal(outcome?.ok, true);
    assert.equal(outcome?.summary?.fetched, left, 'the rest in the next poll');
  } finally {
    await fetcher.close();
  }
  const copies = await everyOneArrives(chain.sink, subjects);
  assert.equal(dovecot.count('stoppop@company.com'), 0);
  t.diagnostic(`stopped after ${300 - left} of 300; duplicates: ${copies.duplicates}`);
  assert.equal(copies.duplicates, 0, 'a clean stop makes no duplicate');
});

test('after a SIGKILL mid-poll, a restarted fetcher leaves nothing in tmp and loses nothing', { timeout: 400_000 }, async (t) => {
  const { subjects, transitDir, run } = await pollingChild(t, 'sigkill', 'killpop@company.com', 150);
  await new Promise((r) => setTimeout(r, 700));
  run.child.kill('SIGKILL');
  await run.exited;
  // The kill may land between two messages; a file it would have left is made sure of here.
  writeFileSync(join(transitDir, 'left-by-the-kill.eml'), buildMessage({ subject: 'half a message' }), { mode: 0o600 });

  const { fetcher } = fetcherFor('sigkill', [{ user: 'killpop@company.com', protocol: 'pop3', keep: false }]);
  try {
    assert.deepEqual(readdirSync(transitDir), [], 'leftovers removed at start');
    const [outcome] = await fetcher.pollNow();
    assert.equal(outcome?.ok, true, JSON.stringify(outcome));
  } finally {
    await fetcher.close();
  }
  assert.deepEqual(readdirSync(transitDir), []);
  const copies = await everyOneArrives(chain.sink, subjects);
  assert.equal(dovecot.count('killpop@company.com'), 0);
  t.diagnostic(`duplicates after one SIGKILL: ${copies.duplicates}`);
  assert.ok(copies.duplicates <= 1, 'a kill costs at most the message in flight');
});
