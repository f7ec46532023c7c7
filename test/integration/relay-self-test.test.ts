// Apply's relay self-test against the chain's real Postfix: the rendered config refuses a client
// outside mynetworks, a Postfix made into an open relay fails the test, and XCLIENT stays confined
// to the private relaytest socket (port 25 refuses it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startChain, type Chain } from '../support/chain.js';
import { converse } from '../../runtime/local/net.js';
import { foreignDomain, OpenRelayError, outsideClient, relaySelfTest } from '../../firstboot/relay-self-test.js';

const run = promisify(execFile);
let chain: Chain;
let confDir: string;

/** Changes main.cf of the running Postfix; the listener's next smtpd reads it. */
async function setMain(...settings: string[]): Promise<void> {
  await run('postconf', ['-c', confDir, '-e', ...settings]);
  await run('postfix', ['-c', confDir, 'reload']);
  await sleep(1500);
}

before(
  async () => {
    chain = await startChain();
    confDir = chain.config.postfix.configDir;
  },
  { timeout: 180_000 },
);

after(
  async () => {
    await chain?.stop();
  },
  { timeout: 60_000 },
);

test('the client and the recipient are chosen outside mynetworks and our domains', { timeout: 30_000 }, () => {
  assert.equal(outsideClient('127.0.0.1/32 192.168.100.0/24'), '192.0.2.1');
  assert.equal(outsideClient('127.0.0.1/32 192.0.2.0/24 [::1]/128'), '198.51.100.1');
  assert.equal(outsideClient('127.0.0.1/32 0.0.0.0/0'), undefined);
  assert.equal(foreignDomain('company.com, company.local'), 'example.org');
  assert.equal(foreignDomain('example.org .example.net'), 'example.com');
});

test('the rendered config refuses to relay for a client outside mynetworks', { timeout: 60_000 }, async () => {
  const line = await relaySelfTest({ configDir: confDir });
  assert.match(line, /^192\.0\.2\.1 to relay-self-test@example\.org: 554 5\.7\.1 Relay access denied$/);
  assert.equal(await chain.postfix.queueSize(), 0);
});

test('XCLIENT is offered only on the relay test socket, which only root and postfix can reach', { timeout: 30_000 }, async () => {
  const door = await converse({ host: '127.0.0.1', port: chain.postfix.smtpPort }, 'EHLO client.example.net\r\nXCLIENT ADDR=192.0.2.1\r\nQUIT\r\n');
  assert.doesNotMatch(door, /^250[- ]XCLIENT/m);
  assert.match(door, /^550 5\.7\.0 Error: insufficient authorization/m);
  const [queueDir] = (await run('postconf', ['-c', confDir, '-h', 'queue_directory'])).stdout.split('\n');
  assert.equal(statSync(join(queueDir!, 'private')).mode & 0o077, 0);
  assert.match((await run('postconf', ['-c', confDir, '-M', 'relaytest/unix'])).stdout, /^relaytest\s+unix\s/);
});

test('a Postfix that relays for everyone fails the self-test, and nothing is queued', { timeout: 60_000 }, async () => {
  const names = ['smtpd_relay_restrictions', 'smtpd_recipient_restrictions'];
  const rendered = (await run('postconf', ['-c', confDir, '-h', ...names])).stdout.split('\n');
  // An access map that says OK to every client before the check (a bare `permit` there is refused
  // by smtpd itself at startup).
  await setMain(...names.map((name) => `${name}=permit_mynetworks, check_client_access static:OK, reject_unauth_destination`));
  try {
    await assert.rejects(
      relaySelfTest({ configDir: confDir }),
      (err: Error) =>
        err instanceof OpenRelayError &&
        /^OPEN RELAY: Postfix accepted mail from 192\.0\.2\.1, outside the allowed networks, for relay-self-test@example\.org: 250 2\.1\.5 Ok$/.test(
          err.message,
        ),
    );
    assert.equal(await chain.postfix.queueSize(), 0);
  } finally {
    await setMain(...names.map((name, i) => `${name}=${rendered[i]}`));
  }
});

test('with a wider mynetworks the test speaks from an address still outside it', { timeout: 60_000 }, async () => {
  const [mynetworks] = (await run('postconf', ['-c', confDir, '-h', 'mynetworks'])).stdout.split('\n');
  await setMain(`mynetworks=${mynetworks} 192.0.2.0/24`);
  try {
    assert.match(await relaySelfTest({ configDir: confDir }), /^198\.51\.100\.1 to relay-self-test@example\.org: 554 5\.7\.1 Relay access denied$/);
  } finally {
    await setMain(`mynetworks=${mynetworks}`);
  }
});
