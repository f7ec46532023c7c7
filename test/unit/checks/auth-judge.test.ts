// What authentication results mean (auth-judge.ts) and how the decision uses them (decide.ts):
// SPOOFED between UNCHECKED and SPAM, DMARC quarantine as SPAM, a trusted ARC chain's override,
// the allow list for third-party senders only, and bounce notices only to authenticated senders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeAuth, type AuthContext } from '../../../runtime/checks/auth-judge.js';
import type { AuthFacts } from '../../../runtime/checks/auth.js';
import { networkMatcher } from '../../../runtime/checks/auth-networks.js';
import { applyListMatch, decide, noBounceReason, senderAuthOf, type Verdict } from '../../../runtime/filter/decide.js';
import type { CheckResult } from '../../../runtime/checks/result.js';
import { defaultConfig } from '../../../runtime/config/load.js';

const policy = defaultConfig().policy;
const facts = (over: Partial<AuthFacts> = {}): AuthFacts => ({
  spf: { result: 'none', domain: 'example.net' },
  dkim: [],
  dmarc: { result: 'none', domain: 'example.net', policy: '' },
  arc: null,
  fromDomain: 'example.net',
  rows: ['spf=none smtp.mailfrom=example.net'],
  ...over,
});
const context = (over: Partial<AuthContext> = {}): AuthContext => ({
  ourDomains: ['company.com', 'company.local'],
  clientInside: false,
  clientAddress: '192.0.2.9',
  mailFrom: 'a@example.net',
  trustedSealers: ['google.com'],
  ...over,
});
const verdictOf = (results: CheckResult[]) => decide(results, policy) as Verdict;

test('DMARC fail under p=reject is SPOOFED, under p=quarantine suspect (SPAM), under p=none nothing', () => {
  const dmarc = (p: string) => judgeAuth(facts({ dmarc: { result: 'fail', domain: 'example.net', policy: p } }), context());
  assert.deepEqual([dmarc('reject').result, dmarc('reject').auth?.verdict], ['fail', 'spoofed']);
  assert.match(dmarc('reject').detail, /^DMARC fail for example\.net \(p=reject\)/);
  assert.deepEqual([dmarc('quarantine').result, dmarc('quarantine').auth?.verdict], ['fail', 'quarantine']);
  assert.deepEqual([dmarc('none').result, dmarc('none').auth?.verdict], ['pass', null]);
});

test('our own domain in From: from outside without SPF pass or aligned DKIM is SPOOFED; inside, or authenticated, it is not', () => {
  const own = facts({ fromDomain: 'company.com', spf: { result: 'none', domain: 'company.com' } });
  const outside = judgeAuth(own, context({ mailFrom: 'ceo@company.com' }));
  assert.equal(outside.auth?.verdict, 'spoofed');
  assert.match(outside.detail, /From: company\.com is our own domain, sent from 192\.0\.2\.9 outside the allowed networks/);
  assert.equal(judgeAuth(own, context({ clientInside: true })).auth?.verdict, null);
  assert.equal(judgeAuth({ ...own, spf: { result: 'pass', domain: 'company.com' } }, context()).auth?.verdict, null);
  assert.equal(
    judgeAuth({ ...own, dkim: [{ domain: 'mail.company.com', selector: 's', result: 'pass', comment: '' }] }, context()).auth?.verdict,
    null,
    'DKIM of a subdomain aligns (relaxed)',
  );
  assert.equal(
    judgeAuth({ ...own, spf: { result: 'pass', domain: 'evil.example' } }, context()).auth?.verdict,
    'spoofed',
    'SPF pass for another domain does not align',
  );
});

test('a chain sealed by a trusted sealer whose earlier results passed overrides a DMARC fail, and the detail says so; an untrusted one does not', () => {
  const forwarded = (sealer: string) =>
    facts({
      dmarc: { result: 'fail', domain: 'example.net', policy: 'reject' },
      arc: { result: 'pass', sealer, earlier: { spf: 'pass', dmarc: 'pass', dkim: ['pass'] } },
    });
  const trusted = judgeAuth(forwarded('google.com'), context());
  assert.deepEqual([trusted.result, trusted.auth?.verdict], ['pass', null]);
  assert.match(trusted.detail, /overridden: ARC chain sealed by trusted google\.com whose earlier results passed/);
  assert.equal(judgeAuth(forwarded('sealer.evil.example'), context()).auth?.verdict, 'spoofed');
  const failedBefore = facts({
    dmarc: { result: 'fail', domain: 'example.net', policy: 'reject' },
    arc: { result: 'pass', sealer: 'google.com', earlier: { spf: 'fail', dmarc: 'fail', dkim: [] } },
  });
  assert.equal(judgeAuth(failedBefore, context()).auth?.verdict, 'spoofed', 'the chain vouches only for results that passed');
});

test('a DNS failure behind a forgery verdict postpones instead of quarantining', () => {
  const result = judgeAuth(facts({ fromDomain: 'company.com', spf: { result: 'temperror', domain: 'company.com' } }), context());
  assert.equal(result.result, 'error');
  assert.equal(decide([result], policy).kind, 'postpone');
});

test('the envelope sender passes with SPF pass or a DKIM signature of its domain, fails with SPF -all or its signature broken, else is unknown', () => {
  const senderAuth = (over: Partial<AuthFacts>) => judgeAuth(facts(over), context()).auth?.senderAuth;
  assert.equal(senderAuth({ spf: { result: 'pass', domain: 'example.net' } }), 'pass');
  assert.equal(senderAuth({ dkim: [{ domain: 'example.net', selector: 's', result: 'pass', comment: '' }] }), 'pass');
  assert.equal(senderAuth({ dkim: [{ domain: 'other.example', selector: 's', result: 'pass', comment: '' }] }), 'unknown');
  assert.equal(senderAuth({ spf: { result: 'softfail', domain: 'example.net' } }), 'unknown');
  assert.equal(senderAuth({ spf: { result: 'fail', domain: 'example.net' } }), 'fail');
  assert.equal(senderAuth({ dkim: [{ domain: 'example.net', selector: 's', result: 'fail', comment: 'body hash did not verify' }] }), 'fail');
});

test('precedence: VIRUS > BANNED > UNCHECKED > SPOOFED > SPAM > BADH; SPOOFED has its own destiny, D_DISCARD by default', () => {
  const spoofed = judgeAuth(facts({ dmarc: { result: 'fail', domain: 'example.net', policy: 'reject' } }), context());
  const fail = (check: CheckResult['check']): CheckResult => ({ check, result: 'fail', detail: check });
  assert.equal(verdictOf([spoofed, fail('virus')]).category, 'VIRUS');
  assert.equal(verdictOf([spoofed, fail('banned')]).category, 'BANNED');
  assert.equal(verdictOf([spoofed, fail('unchecked')]).category, 'UNCHECKED');
  const verdict = verdictOf([fail('headers'), { check: 'spam', result: 'fail', detail: 'score=20', score: 20 }, spoofed]);
  assert.deepEqual([verdict.category, verdict.destiny], ['SPOOFED', 'D_DISCARD']);
  assert.equal((decide([spoofed], { ...policy, spoofedDestiny: 'D_PASS' }) as Verdict).destiny, 'D_PASS');
  assert.equal(noBounceReason({ ...verdict, destiny: 'D_BOUNCE' }, 'a@example.net', policy, 'pass'), 'the sender is forged (no backscatter)');
});

test('DMARC quarantine counts as SPAM with the reason in the detail, after the spam score when both', () => {
  const suspect = judgeAuth(facts({ dmarc: { result: 'fail', domain: 'example.net', policy: 'quarantine' } }), context());
  const alone = verdictOf([{ check: 'spam', result: 'pass', detail: 'score=1', score: 1 }, suspect]);
  assert.equal(alone.category, 'SPAM');
  assert.match(alone.detail, /^DMARC fail for example\.net \(p=quarantine\)/);
  const both = verdictOf([{ check: 'spam', result: 'fail', detail: 'score=9 required=6.31', score: 9 }, suspect]);
  assert.match(both.detail, /^score=9 required=6\.31; DMARC fail/);
});

test('a virus notice goes only to an authenticated sender, now that authentication runs', () => {
  const authed = judgeAuth(facts({ spf: { result: 'pass', domain: 'example.net' } }), context());
  const unauthed = judgeAuth(facts(), context());
  const virus = (auth: CheckResult) => verdictOf([{ check: 'virus', result: 'fail', detail: 'Eicar' }, auth]);
  assert.equal(senderAuthOf(virus(authed).results), 'pass');
  assert.equal(noBounceReason(virus(authed), 'a@example.net', policy, senderAuthOf(virus(authed).results)), null);
  assert.match(noBounceReason(virus(unauthed), 'a@example.net', policy, senderAuthOf(virus(unauthed).results)) ?? '', /virus senders are forged/);
  const banned = (auth: CheckResult) => verdictOf([{ check: 'banned', result: 'fail', detail: 'x.exe' }, auth]);
  const spfFailed = judgeAuth(facts({ spf: { result: 'fail', domain: 'example.net' } }), context());
  assert.equal(
    noBounceReason(banned(unauthed), 'a@example.net', policy, senderAuthOf(banned(unauthed).results)),
    null,
    'a banned file from an unknown sender still bounces',
  );
  assert.match(noBounceReason(banned(spfFailed), 'a@example.net', policy, senderAuthOf(banned(spfFailed).results)) ?? '', /not authenticated/);
  assert.equal(senderAuthOf([{ check: 'auth', result: 'skip', detail: 'off' }]), 'unknown');
});

test('an allow entry lifts SPOOFED for a third-party sender, never for an address of our own domains', () => {
  const spoofed = verdictOf([judgeAuth(facts({ dmarc: { result: 'fail', domain: 'news.example', policy: 'reject' } }), context())]);
  const allow = (sender: string) => ({ kind: 'allow' as const, pattern: sender, list: 'global', sender });
  const lifted = applyListMatch(spoofed, allow('news@news.example'), policy, ['company.com']);
  assert.deepEqual([lifted.category, lifted.destiny], ['CLEAN', 'D_PASS']);
  assert.match(lifted.listNote ?? '', /allowed \(global list/);
  const own = verdictOf([judgeAuth(facts({ fromDomain: 'company.com' }), context())]);
  assert.equal(applyListMatch(own, allow('ceo@company.com'), policy, ['company.com']).category, 'SPOOFED');
  const block = { kind: 'block' as const, pattern: '*@news.example', list: 'global', sender: 'x@news.example' };
  assert.equal(applyListMatch(spoofed, block, policy, ['company.com']).category, 'SPOOFED', 'a block keeps the forgery verdict');
});

test('mynetworks as Postfix has it: addresses, CIDR ranges, IPv6, the IPv6: prefix of XFORWARD', () => {
  const inside = networkMatcher(['127.0.0.1/32', '192.168.1.0/24', '[2001:db8::]/64', '10.0.0.7']);
  assert.equal(inside('127.0.0.1'), true);
  assert.equal(inside('127.0.0.2'), false);
  assert.equal(inside('192.168.1.77'), true);
  assert.equal(inside('::ffff:192.168.1.77'), true);
  assert.equal(inside('IPv6:2001:db8::5'), true);
  assert.equal(inside('2001:db9::5'), false);
  assert.equal(inside('10.0.0.7'), true);
  assert.equal(inside('not an address'), false);
});
