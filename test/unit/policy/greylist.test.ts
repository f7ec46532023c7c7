// The greylisting decision and its SQLite state, and the policy protocol's framing: a new triplet
// waits, a retry after the delay passes, a client network is allowed after N passes, entries expire,
// and mynetworks, allow-listed senders and SPF passes are never delayed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientNetwork, greylist, type GreylistSettings } from '../../../runtime/policy/greylist.js';
import { GreylistState } from '../../../runtime/policy/greylist-state.js';
import { policyAnswer, requestReader, type PolicyRequest } from '../../../runtime/policy/protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'greylist-'));
const states: GreylistState[] = [];
after(async () => {
  for (const state of states) await state.close();
  rmSync(dir, { recursive: true, force: true });
});

const open = (name: string) => {
  const state = GreylistState.open(join(dir, `${name}.sqlite`));
  states.push(state);
  return state;
};
const settings = (over: Partial<GreylistSettings> = {}): GreylistSettings => ({
  delaySeconds: 300,
  autoAllowAfter: 2,
  inside: (a) => a === '127.0.0.1',
  allowListed: async () => false,
  spfPasses: async () => false,
  ...over,
});
const rcpt = (over: PolicyRequest = {}): PolicyRequest => ({
  request: 'smtpd_access_policy',
  protocol_state: 'RCPT',
  client_address: '198.51.100.7',
  helo_name: 'mx.example.net',
  sender: 'a@example.net',
  recipient: 'bob@company.com',
  ...over,
});
const T0 = Date.UTC(2026, 0, 1);

test('a new triplet gets 450 4.7.1 with the wait; too early again waits; after the delay it passes and stays passed', async () => {
  const state = open('basic');
  const first = await greylist(rcpt(), state, settings(), T0);
  assert.match(first.action, /^450 4\.7\.1 Greylisted: first mail from 198\.51\.100\.0\/24 for <bob@company\.com>, please try again in 300 seconds$/);
  assert.match((await greylist(rcpt(), state, settings(), T0 + 60_000)).action, /^450 4\.7\.1 .*try again in 240 seconds/);
  assert.deepEqual(
    await greylist(rcpt({ client_address: '198.51.100.99' }), state, settings(), T0 + 301_000),
    { action: 'DUNNO', why: 'retried after the delay' },
    'a neighbour in the /24 retries for it',
  );
  assert.equal((await greylist(rcpt(), state, settings(), T0 + 900_000)).why, 'retried before');
  assert.match(
    (await greylist(rcpt({ recipient: 'carol@company.com' }), state, settings(), T0 + 900_000)).action,
    /^450 /,
    'another recipient is another triplet',
  );
});

test('a client network that passed N retries is no longer asked; expiry forgets what was not seen', async () => {
  const state = open('auto');
  for (const recipient of ['r1@company.com', 'r2@company.com']) {
    await greylist(rcpt({ recipient }), state, settings(), T0);
    await greylist(rcpt({ recipient }), state, settings(), T0 + 400_000);
  }
  assert.equal((await greylist(rcpt({ recipient: 'new@company.com', sender: 'other@example.org' }), state, settings(), T0 + 500_000)).action, 'DUNNO');
  assert.equal(await state.expire(35, T0 + 36 * 86_400_000), 2);
  assert.match((await greylist(rcpt({ recipient: 'r1@company.com' }), state, settings(), T0 + 36 * 86_400_000)).action, /^450 /);
});

test('mynetworks, allow-listed senders and senders whose SPF passes are never delayed; other stages are not checked', async () => {
  const state = open('spared');
  assert.equal((await greylist(rcpt({ client_address: '127.0.0.1' }), state, settings())).why, 'allowed network');
  assert.equal(
    (await greylist(rcpt(), state, settings({ allowListed: async (r, s) => r === 'bob@company.com' && s === 'a@example.net' }))).why,
    'sender on an allow list',
  );
  let asked: unknown;
  const spf = await greylist(
    rcpt(),
    state,
    settings({
      spfPasses: async (q) => {
        asked = q;
        return true;
      },
    }),
  );
  assert.equal(spf.why, 'SPF pass for the client');
  assert.deepEqual(asked, { clientAddress: '198.51.100.7', helo: 'mx.example.net', sender: 'a@example.net' });
  assert.equal((await greylist(rcpt({ protocol_state: 'DATA' }), state, settings())).action, 'DUNNO');
});

test('client networks: /24 for IPv4, /64 for IPv6 however it is written', () => {
  assert.equal(clientNetwork('192.0.2.77'), '192.0.2.0/24');
  assert.equal(clientNetwork('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(clientNetwork('2001:DB8::1'), '2001:db8:0:0::/64');
  assert.equal(clientNetwork('2001:db8:0:0:0:0:0:1'), clientNetwork('2001:db8::1'));
  assert.equal(clientNetwork('::ffff:192.0.2.1'), '0:0:0:0::/64');
});

test('the protocol: requests end at an empty line, split anywhere across packets; answers are action= and an empty line', () => {
  const seen: PolicyRequest[] = [];
  const read = requestReader((r) => seen.push(r));
  read(Buffer.from('request=smtpd_access_policy\nsender=a@b.c\nrecipient=x@y'));
  read(Buffer.from('.z\n\nrequest=smtpd_access_policy\nsender=\n\n'));
  assert.deepEqual(seen, [
    { request: 'smtpd_access_policy', sender: 'a@b.c', recipient: 'x@y.z' },
    { request: 'smtpd_access_policy', sender: '' },
  ]);
  assert.equal(policyAnswer('450 4.7.1 wait\r\nnow'), 'action=450 4.7.1 wait now\n\n');
  assert.throws(() => read(Buffer.alloc(70_000, 'a')), /too large/);
});
