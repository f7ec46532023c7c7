// Mail from inside the allowed networks (our own users') is not authenticated: no DNS query, no
// verdict, an Authentication-Results saying "none" and why, forged ones still removed; a bounce
// asks the sender's SPF then. Mail from outside is checked as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanMessage, type AuthSettings } from '../../../runtime/filter/scan.js';
import { readHead, parseHead } from '../../../runtime/mail/message-head.js';
import { defaultConfig } from '../../../runtime/config/load.js';
import { networkMatcher } from '../../../runtime/checks/auth-networks.js';
import { spfSenderAuth } from '../../../runtime/checks/auth.js';
import { deliveryHead } from '../../../runtime/filter/rewrite.js';
import { decide, type Verdict } from '../../../runtime/filter/decide.js';
import { parseAuthResults } from '../../../runtime/checks/auth-results.js';

const config = defaultConfig();
const message =
  'Authentication-Results: mx.company.com; dkim=pass header.d=bank.example\r\nFrom: ceo@company.com\r\nTo: x@example.net\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nSubject: x\r\n\r\nbody\r\n';

/** A resolver that answers from a table and counts the questions. */
function tableResolver(records: Record<string, string[][]>) {
  const asked: string[] = [];
  const resolve = async (name: string, type: string) => {
    asked.push(`${name}/${type}`);
    const answer = records[`${name}/${type}`];
    if (answer) return answer;
    throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  };
  return { asked, resolve };
}

async function scanFrom(clientAddress: string, resolve: AuthSettings['resolve']) {
  const dir = mkdtempSync(join(tmpdir(), 'auth-inside-'));
  try {
    const path = join(dir, 'm.eml');
    writeFileSync(path, message);
    const auth: AuthSettings = {
      authservId: 'mx.company.com',
      resolve,
      ourDomains: ['company.com'],
      inside: networkMatcher(['127.0.0.1/32', '10.0.0.0/8']),
      trustedSealers: [],
    };
    const envelope = { clientAddress, heloName: 'pc1', mailFrom: 'ceo@company.com' };
    const results = await scanMessage({ spoolPath: path, size: message.length, head: await readHead(path), envelope }, { ...config, checks: ['auth'], auth });
    return results.find((r) => r.check === 'auth')!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Our own domain publishes p=reject and an SPF that lists only the appliance's public address.
const OWN = {
  'company.com/TXT': [['v=spf1 ip4:203.0.113.25 -all']],
  '_dmarc.company.com/TXT': [['v=DMARC1; p=reject']],
};

test('mail from inside the allowed networks is not checked: no DNS question, no verdict, A-R says none and why', async () => {
  const { asked, resolve } = tableResolver(OWN);
  const result = await scanFrom('10.1.2.3', resolve);
  assert.equal(result.result, 'skip');
  assert.match(result.detail, /client 10\.1\.2\.3 is inside the allowed networks: not checked/);
  assert.deepEqual(result.auth, { verdict: null, senderAuth: 'unknown', rows: [], inside: true });
  assert.deepEqual(asked, []);
  const verdict = decide([result], config.policy) as Verdict;
  assert.equal(verdict.category, 'CLEAN');
  const head = deliveryHead(parseHead(Buffer.from(message), message.length, true), verdict, {
    scannedBy: 'mailfilter at company.com',
    spamLevel: 6.31,
    subjectTag: '',
    authservId: 'mx.company.com',
  }).toString('latin1');
  // Ours on top, the forged one claiming our name gone.
  assert.match(head, /^Authentication-Results: mx\.company\.com \(client inside the allowed networks: not checked\); none\r\n/);
  assert.equal(head.match(/^Authentication-Results:/gm)?.length, 1);
  assert.doesNotMatch(head, /bank\.example/);
  // The viewer reads it back as a header of ours with no method rows.
  assert.deepEqual(parseAuthResults(head, 'mx.company.com'), { spf: [], dkim: [], dmarc: [], arc: [] });
});

test('the same mail from outside is checked: our own domain failing DMARC p=reject is SPOOFED', async () => {
  const { asked, resolve } = tableResolver(OWN);
  const result = await scanFrom('192.0.2.9', resolve);
  assert.equal(result.result, 'fail');
  assert.equal(result.auth?.verdict, 'spoofed');
  assert.ok(asked.includes('company.com/TXT') && asked.includes('_dmarc.company.com/TXT'), asked.join(' '));
});

test('a bounce for mail from inside asks the sender SPF: pass, fail, and unknown without a record or on a DNS failure', async () => {
  const spf = (records: Record<string, string[][]>, clientAddress: string, mailFrom = 'alice@company.com') =>
    spfSenderAuth({ clientAddress, heloName: 'pc1', mailFrom }, { authservId: 'mx.company.com', resolve: tableResolver(records).resolve });
  assert.equal(await spf({ 'company.com/TXT': [['v=spf1 ip4:10.0.0.0/8 -all']] }, '10.1.2.3'), 'pass');
  assert.equal(await spf(OWN, '10.1.2.3'), 'fail');
  assert.equal(await spf({ 'company.com/TXT': [['v=spf1 ip4:203.0.113.25 ~all']] }, '10.1.2.3'), 'unknown');
  assert.equal(await spf({}, '10.1.2.3'), 'unknown');
  assert.equal(await spf(OWN, '10.1.2.3', ''), 'unknown');
  const failing = async () => {
    throw Object.assign(new Error('queryTxt ETIMEOUT company.com'), { code: 'ETIMEOUT' });
  };
  assert.equal(await spfSenderAuth({ clientAddress: '10.1.2.3', heloName: '', mailFrom: 'a@company.com' }, { authservId: 'x', resolve: failing }), 'unknown');
});
