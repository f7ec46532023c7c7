// The front door on a real Postfix rendered from our templates, with a real DNS server serving a
// blocklist (bl.test) and an allow list (wl.test): STARTTLS, postscreen, rate limits and recipient
// verification. Each client connects from a loopback address of its own, so that one is listed and
// another is not, and postscreen's per-client cache never carries one test into the next.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startChain, type Chain, arrivalOf, uniqueSubject } from '../support/chain.js';
import { listedIn } from '../support/dns.js';
import { buildMessage } from '../support/messages.js';
import { waitFor } from '../support/net.js';

const run = promisify(execFile);
let chain: Chain;

const LISTED = '127.0.0.2';
const VERIFIED = '127.0.0.3';
const PREGREETER = '127.0.0.4';
const LISTED_AND_ALLOWED = '127.0.0.5';
const RATE_LIMITED = '127.0.0.6';
const TLS_CLIENT = '127.0.0.7';
const FILTER_DOWN_CLIENT = '127.0.0.8';
const SLOW_SERVER_CLIENT = '127.0.0.9';
const MESSAGES_PER_MINUTE = 2;
/** Longer than smtpd waited for a probe before (2 s), well within what it waits now. */
const SLOW_RCPT_MS = 4000;

before(
  async () => {
    chain = await startChain(
      { door: { dnsblSites: ['bl.test*3', 'wl.test*-5'], dnsblThreshold: 3, messageRatePerClient: MESSAGES_PER_MINUTE } },
      {
        dnsRecords: [
          ...listedIn('bl.test', LISTED),
          // The appliance itself (mynetworks) listed: never screened all the same.
          ...listedIn('bl.test', '127.0.0.1'),
          ...listedIn('bl.test', LISTED_AND_ALLOWED),
          ...listedIn('wl.test', LISTED_AND_ALLOWED),
        ],
      },
    );
  },
  { timeout: 300_000 },
);

after(
  async () => {
    await chain?.stop();
  },
  { timeout: 120_000 },
);

const from = 'someone@example.net';
const arrives = (subject: string) => arrivalOf(chain, subject);

test('STARTTLS is offered on port 25 and negotiated with TLS 1.2 or later; the certificate verifies for the host name', { timeout: 120_000 }, async () => {
  const cert = join(chain.config.viewer.dataDir, 'tls', 'viewer.crt');
  // s_client ends the session at its stdin's end; its exit status says nothing about verification.
  const session = run(
    'openssl',
    [
      's_client',
      '-connect',
      `127.0.0.1:${chain.postfix.smtpPort}`,
      '-starttls',
      'smtp',
      '-CAfile',
      cert,
      '-verify_hostname',
      'mx.company.com',
      '-verify_return_error',
      '-brief',
    ],
    { timeout: 60_000 },
  );
  session.child.stdin?.end('QUIT\r\n');
  const { stdout, stderr } = await session.catch((err: { stdout: string; stderr: string }) => err);
  const said = `${stdout}${stderr}`;
  assert.match(said, /Verification: OK/, said);
  assert.match(said, /Protocol version: TLSv1\.[23]/, said);
});

test('mail sent with swaks --tls arrives with the TLS session in Received:, and Postfix logs it', { timeout: 120_000 }, async () => {
  const subject = uniqueSubject('over TLS');
  const cert = join(chain.config.viewer.dataDir, 'tls', 'viewer.crt');
  const { stdout } = await run(
    'swaks',
    [
      '--server',
      '127.0.0.1',
      '--port',
      String(chain.postfix.smtpPort),
      '--local-interface',
      TLS_CLIENT,
      '--tls',
      '--tls-verify',
      '--tls-ca-path',
      cert,
      '--helo',
      'client.example.net',
      '--from',
      from,
      '--to',
      'bob@company.com',
      '--header',
      `Subject: ${subject}`,
      '--body',
      'sent over STARTTLS',
    ],
    { timeout: 90_000 },
  );
  assert.match(stdout, /<-\s+220 .*Ready to start TLS/, stdout);
  assert.match(stdout, /<~\s+250 .*Ok: queued/, stdout);
  const message = await arrives(subject);
  assert.match(message.raw, /^Received: from client\.example\.net[^]*?\(using TLSv1\.[23] with cipher [^)]+\)/m);
  assert.match(chain.postfix.log(), new RegExp(`TLS connection established from [^\\n]*\\[${TLS_CLIENT.replace(/\./g, '\\.')}\\]`));
});

test('a client on a blocklist is refused by postscreen with the list named', { timeout: 120_000 }, async () => {
  const sent = await chain.send(buildMessage({ subject: 'from a listed client' }), { from, to: ['bob@company.com'] }, { localAddress: LISTED });
  assert.equal(sent.accepted.length, 0);
  assert.match(sent.response, /^550 5\.7\.1 Service unavailable; client \[127\.0\.0\.2\] blocked using bl\.test/);
  assert.match(chain.postfix.log(), /postscreen\[\d+\]: DNSBL rank 3 for \[127\.0\.0\.2\]/);
});

test('a client on the blocklist and the allow list (negative weight) is let through', { timeout: 120_000 }, async () => {
  const subject = uniqueSubject('listed and allowed');
  const sent = await chain.send(buildMessage({ subject, from: `Someone <${from}>` }), { from, to: ['bob@company.com'] }, { localAddress: LISTED_AND_ALLOWED });
  assert.deepEqual(sent.accepted, ['bob@company.com'], sent.response);
  await arrives(subject);
});

test('a client that talks before the greeting is dropped', { timeout: 60_000 }, async () => {
  const said = await new Promise<string>((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port: chain.postfix.smtpPort, localAddress: PREGREETER });
    const chunks: Buffer[] = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error('postscreen kept the pregreeting client')));
    socket.on('connect', () => socket.write('EHLO robot.example.net\r\n'));
    socket.on('data', (c: Buffer) => chunks.push(c));
    // Dropped with our command unread: the close may come as a reset.
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
  assert.doesNotMatch(said, /^220 /m, 'the greeting was never completed');
  assert.doesNotMatch(said, /^250[ -]/m, 'it never reached smtpd');
  assert.match(
    chain.postfix.log(),
    /postscreen\[\d+\]: PREGREET \d+ after [\d.]+ from \[127\.0\.0\.4\]:\d+: EHLO robot\.example\.net\\r\\n\n[^\n]*postscreen\[\d+\]: DISCONNECT \[127\.0\.0\.4\]/,
  );
});

test('mynetworks are never screened: the appliance itself is listed and still sends', { timeout: 120_000 }, async () => {
  const subject = uniqueSubject('from mynetworks');
  const sent = await chain.send(buildMessage({ subject }), { from, to: ['bob@company.com'] });
  assert.deepEqual(sent.accepted, ['bob@company.com'], sent.response);
  await arrives(subject);
  assert.doesNotMatch(chain.postfix.log(), /DNSBL rank \d+ for \[127\.0\.0\.1\]/);
});

test('a client past its message rate per minute gets a 4xx', { timeout: 120_000 }, async () => {
  const outcomes = [];
  for (let i = 0; i <= MESSAGES_PER_MINUTE; i++) {
    outcomes.push(await chain.send(buildMessage({ subject: uniqueSubject(`rate ${i}`) }), { from, to: ['bob@company.com'] }, { localAddress: RATE_LIMITED }));
  }
  for (const sent of outcomes.slice(0, MESSAGES_PER_MINUTE)) assert.deepEqual(sent.accepted, ['bob@company.com'], sent.response);
  const limited = outcomes[MESSAGES_PER_MINUTE]!;
  assert.equal(limited.accepted.length, 0);
  assert.match(limited.response, /^450 4\.7\.1 Error: too much mail from 127\.0\.0\.6/);
});

test('an unknown recipient is refused at RCPT by address verification against the final server', { timeout: 120_000 }, async () => {
  chain.sink.refuse.set('nobody@company.com', 550);
  try {
    const subject = uniqueSubject('verified recipients');
    const sent = await chain.send(
      buildMessage({ subject, from: `Someone <${from}>` }),
      { from, to: ['bob@company.com', 'nobody@company.com'] },
      { localAddress: VERIFIED },
    );
    assert.deepEqual(sent.accepted, ['bob@company.com'], sent.response);
    assert.deepEqual(sent.rejected, ['nobody@company.com']);
    const message = await arrives(subject);
    assert.deepEqual(message.to, ['bob@company.com']);
    assert.match(
      chain.postfix.log(),
      /: reject: RCPT from unknown\[127\.0\.0\.3\]: 550 5\.1\.1 <nobody@company\.com>: Recipient address rejected: undeliverable address: host 127\.0\.0\.1\[127\.0\.0\.1\](:\d+)? said: 550 5\.1\.1 no such user/,
    );
    assert.ok(!chain.sink.messages.some((m) => m.to.includes('nobody@company.com')), 'the probe stopped at RCPT TO');
  } finally {
    chain.sink.refuse.clear();
  }
});

test('the final server’s answer is cached: a second message to the unknown recipient needs no probe', { timeout: 60_000 }, async () => {
  chain.sink.refuse.set('nobody@company.com', 550);
  try {
    const probes = () => (chain.postfix.log().match(/to=<nobody@company\.com>.*status=undeliverable/g) ?? []).length;
    const before = probes();
    const sent = await chain.send(buildMessage({ subject: 'again' }), { from, to: ['nobody@company.com'] }, { localAddress: VERIFIED });
    assert.equal(sent.accepted.length, 0);
    assert.match(sent.response, /^550 5\.1\.1 /);
    await waitFor('nothing more in the log', () => true, 1000);
    assert.equal(probes(), before);
  } finally {
    chain.sink.refuse.clear();
  }
});

// Address verification probes never go through the content filter (Postfix's queue manager sends
// trace-only mail straight to its transport), so a filter that defers everything (clamd without a
// virus database, or the filter stopped) must not make a valid recipient look unverified.
test(
  'with the content filter down, a new valid recipient is still verified against the final server; an unknown one is refused',
  { timeout: 180_000 },
  async () => {
    chain.sink.refuse.set('nobody2@company.com', 550);
    await chain.stopFilter();
    try {
      const subject = uniqueSubject('verified while the filter is down');
      const sent = await chain.send(
        buildMessage({ subject, from: `Someone <${from}>` }),
        { from, to: ['carol@company.com', 'nobody2@company.com'] },
        { localAddress: FILTER_DOWN_CLIENT },
      );
      assert.deepEqual(sent.accepted, ['carol@company.com'], sent.response);
      assert.deepEqual(sent.rejected, ['nobody2@company.com']);
      assert.match(
        chain.postfix.log(),
        new RegExp(`to=<carol@company\\.com>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${chain.sink.port},[^\\n]*status=deliverable`),
        'the probe asked the final server, not the filter',
      );
      // Held while the filter is down, delivered once it is back: nothing lost.
      await chain.usePolicy({});
      await chain.postfix.flush();
      const message = await arrives(subject);
      assert.deepEqual(message.to, ['carol@company.com']);
    } finally {
      chain.sink.refuse.clear();
      await chain.usePolicy({});
    }
  },
);

// The final server answers RCPT slowly (a busy server, or the image test's emulated guest reaching
// its final server through qemu): smtpd waits for the probe's answer longer than that.
test('a final server that takes seconds to answer RCPT still has its valid recipient accepted', { timeout: 120_000 }, async () => {
  chain.sink.slowRcpt.set('dave@company.com', SLOW_RCPT_MS);
  try {
    const subject = uniqueSubject('slow final server');
    const sent = await chain.send(
      buildMessage({ subject, from: `Someone <${from}>` }),
      { from, to: ['dave@company.com'] },
      { localAddress: SLOW_SERVER_CLIENT },
    );
    assert.deepEqual(sent.accepted, ['dave@company.com'], sent.response);
    await arrives(subject);
  } finally {
    chain.sink.slowRcpt.clear();
  }
});
