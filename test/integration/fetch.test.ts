// Fetch mode end to end: a real Dovecot (POP3 over implicit TLS, IMAP over STARTTLS, certificates
// verified against a test CA) -> `mailfilter fetch` -> the real Postfix + filter chain -> the sink.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChain, type Chain } from '../support/chain.js';
import { startDovecot, type Dovecot } from '../support/dovecot.js';
import { makeTestCerts, type TestCerts } from '../support/tls.js';
import { buildMessage } from '../support/messages.js';
import { startFetcher, type Fetcher, type PollOutcome } from '../../runtime/fetch/daemon.js';
import type { AppConfig } from '../../runtime/config/schema.js';

let chain: Chain;
let dovecot: Dovecot;
let certs: TestCerts;
let fetchDir: string;

before(async () => {
  chain = await startChain();
  fetchDir = join(chain.dir, 'fetch');
  certs = makeTestCerts(join(chain.dir, 'certs'));
  const users = ['popkeep', 'imapkeep', 'popdel', 'imapdel', 'good', 'badpw'].map((name) => `${name}@company.com`);
  dovecot = await startDovecot(join(chain.dir, 'dovecot'), certs, Object.fromEntries(users.map((user) => [user, `pw-${user}`])));
}, { timeout: 240_000 });

after(async () => {
  await dovecot?.stop();
  await chain?.stop();
});

interface MailboxSpec {
  user: string;
  protocol: 'pop3' | 'imap';
  keep: boolean;
  password?: string;
}

function fetcherFor(name: string, mailboxes: MailboxSpec[], overrides: { verify?: boolean; ca?: boolean } = {}): { fetcher: Fetcher; config: AppConfig } {
  const dir = join(fetchDir, name);
  mkdirSync(dir, { recursive: true });
  const servers = mailboxes.map((m) => ({
    host: '127.0.0.1',
    protocol: m.protocol,
    ...(m.protocol === 'pop3' ? { tls: 'implicit', port: dovecot.ports.pop3s } : { tls: 'starttls', port: dovecot.ports.imap }),
    verifyCertificate: overrides.verify ?? true,
    caFile: overrides.ca === false ? '' : certs.caCert,
    accounts: [{ user: m.user, password: m.password ?? `pw-${m.user}`, deliverTo: `${m.user.split('@')[0]}@company.local`, keep: m.keep }],
  }));
  writeFileSync(join(dir, 'accounts.json'), JSON.stringify({ servers }, null, 2));
  const config: AppConfig = { ...chain.config, fetch: { ...chain.config.fetch, stateDir: join(dir, 'state'), accountsFile: join(dir, 'accounts.json') } };
  return { fetcher: startFetcher(config, { schedule: false }), config };
}

function fill(user: string, count: number, tag: string): string[] {
  const subjects = Array.from({ length: count }, (_, i) => `${tag} ${i} ${Date.now()}`);
  for (const subject of subjects) dovecot.deliver(user, buildMessage({ subject, to: user }));
  return subjects;
}

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
  const mailboxes: MailboxSpec[] = [{ user: 'popkeep@company.com', protocol: 'pop3', keep: true }, { user: 'imapkeep@company.com', protocol: 'imap', keep: true }];
  const first = fetcherFor('keep', mailboxes);
  assert.deepEqual(fetched(await first.fetcher.pollNow()), [[true, 3], [true, 3]]);
  await allArrive(popSubjects, 'popkeep@company.local');
  await allArrive(imapSubjects, 'imapkeep@company.local');
  assert.equal(dovecot.count('popkeep@company.com'), 3, 'keep: still on the server');
  assert.equal(dovecot.count('imapkeep@company.com'), 3);
  assert.deepEqual(fetched(await first.fetcher.pollNow()), [[true, 0], [true, 0]]);
  await first.fetcher.close();

  const restarted = fetcherFor('keep', mailboxes);
  assert.deepEqual(fetched(await restarted.fetcher.pollNow()), [[true, 0], [true, 0]]);
  const newOne = fill('imapkeep@company.com', 1, 'imap keep later');
  assert.deepEqual(fetched(await restarted.fetcher.pollNow()), [[true, 0], [true, 1]]);
  await allArrive(newOne, 'imapkeep@company.local');
  await restarted.fetcher.close();
  for (const subject of [...popSubjects, ...imapSubjects]) {
    assert.equal(chain.sink.messages.filter((m) => m.raw.includes(subject)).length, 1, `${subject} delivered exactly once`);
  }
});

test('keep off: mailboxes are emptied only after Postfix accepted; with Postfix stopped nothing is deleted', async () => {
  const { fetcher } = fetcherFor('delete', [{ user: 'popdel@company.com', protocol: 'pop3', keep: false }, { user: 'imapdel@company.com', protocol: 'imap', keep: false }]);
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
    assert.ok(outcomes.every((o) => !o.ok && /local Postfix did not take the message/.test(o.error ?? '')), JSON.stringify(outcomes));
    assert.equal(dovecot.count('popdel@company.com'), 2, 'nothing deleted while Postfix was down');
    assert.equal(dovecot.count('imapdel@company.com'), 2);

    assert.deepEqual(fetched(await fetcher.pollNow()), [[true, 2], [true, 2]]);
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
