// SPF-aware greylisting through real Postfix: `check_policy_service` asks our policy service at
// RCPT. A new sender from outside gets 450 4.7.1 and is accepted when it retries after the (here
// shortened) delay; a sender whose SPF passes for the client is accepted at once.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startChain, type Chain, arrivalOf, stopAfterTests, uniqueSubject } from '../support/chain.js';
import { freePort } from '../support/net.js';
import { buildMessage } from '../support/messages.js';
import { startPolicy, type RunningPolicy } from '../../runtime/policy/daemon.js';

const DELAY_SECONDS = 3;
const stateDir = mkdtempSync(join(tmpdir(), 'greylist-state-'));
let chain: Chain;
let policy: RunningPolicy | undefined;

before(
  async () => {
    const port = await freePort();
    chain = await startChain(
      { greylist: { enabled: true, listenPort: port, delaySeconds: DELAY_SECONDS, stateFile: join(stateDir, 'greylist.sqlite') } },
      {
        dnsRecords: [
          { name: 'spf.example', type: 'A', data: '192.0.2.1' },
          { name: 'spf.example', type: 'TXT', data: 'v=spf1 ip4:127.0.0.3 -all' },
          { name: 'nospf.example', type: 'A', data: '192.0.2.1' },
        ],
      },
    );
    policy = await startPolicy(chain.config);
  },
  { timeout: 300_000 },
);

stopAfterTests(async () => {
  await policy?.close();
  await chain?.stop();
}, stateDir);

const arrives = (subject: string) => arrivalOf(chain, subject);

test('main.cf asks the policy service last in the recipient restrictions', { timeout: 30_000 }, () => {
  const mainCf = readFileSync(join(chain.config.postfix.configDir, 'main.cf'), 'utf8');
  assert.match(
    mainCf,
    new RegExp(
      `^smtpd_recipient_restrictions = .*reject_unauth_destination.*, check_policy_service inet:127\\.0\\.0\\.1:${chain.config.greylist.listenPort}$`,
      'm',
    ),
  );
});

test('a new sender from outside gets 450 4.7.1, too early again 450, and its retry after the delay is delivered', { timeout: 120_000 }, async () => {
  const subject = uniqueSubject('greylisted');
  const message = buildMessage({ subject, from: 'someone@nospf.example' });
  const envelope = { from: 'someone@nospf.example', to: ['bob@company.com'] };
  const first = await chain.send(message, envelope, { localAddress: '127.0.0.4' });
  assert.deepEqual(first.accepted, []);
  assert.match(first.response, /^450 4\.7\.1 .*Greylisted: first mail from 127\.0\.0\.0\/24 for <bob@company\.com>, please try again in 3 seconds/);
  const early = await chain.send(message, envelope, { localAddress: '127.0.0.4' });
  assert.match(early.response, /^450 4\.7\.1 /);
  await sleep((DELAY_SECONDS + 1) * 1000);
  const retry = await chain.send(message, envelope, { localAddress: '127.0.0.4' });
  assert.deepEqual(retry.accepted, ['bob@company.com'], retry.response);
  await arrives(subject);
});

test('a sender whose SPF passes for the client is accepted at once, and so is mail from mynetworks', { timeout: 120_000 }, async () => {
  const spfSubject = uniqueSubject('spf passes');
  const spf = await chain.send(
    buildMessage({ subject: spfSubject, from: 'someone@spf.example' }),
    { from: 'someone@spf.example', to: ['carol@company.com'] },
    { localAddress: '127.0.0.3' },
  );
  assert.deepEqual(spf.accepted, ['carol@company.com'], spf.response);
  const insideSubject = uniqueSubject('from mynetworks');
  const inside = await chain.send(buildMessage({ subject: insideSubject, from: 'someone@nospf.example' }), {
    from: 'someone@nospf.example',
    to: ['dave@company.com'],
  });
  assert.deepEqual(inside.accepted, ['dave@company.com'], inside.response);
  await arrives(spfSubject);
  await arrives(insideSubject);
});
