import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyListMatch, decide, mayBounce, noBounceReason } from '../../../runtime/filter/decide.js';
import { nextHopReply } from '../../../runtime/filter/pipeline.js';
import { defaultConfig } from '../../../runtime/config/load.js';
import type { CheckResult } from '../../../runtime/checks/result.js';

const policy = defaultConfig().policy;
const pass = (check: CheckResult['check']): CheckResult => ({ check, result: 'pass', detail: '' });
const fail = (check: CheckResult['check'], detail: string, extra: Partial<CheckResult> = {}): CheckResult => ({ check, result: 'fail', detail, ...extra });

test('precedence: VIRUS, then BANNED, then SPAM, then BADH', () => {
  const all = [fail('headers', 'h'), fail('spam', 's', { score: 20 }), fail('banned', 'b'), fail('virus', 'v')];
  assert.equal((decide(all, policy) as { category: string }).category, 'VIRUS');
  assert.equal((decide(all.slice(0, 3), policy) as { category: string }).category, 'BANNED');
  assert.equal((decide(all.slice(0, 2), policy) as { category: string }).category, 'SPAM');
  assert.equal((decide(all.slice(0, 1), policy) as { category: string }).category, 'BADH');
  const clean = decide([pass('virus'), pass('spam')], policy);
  assert.deepEqual([clean.kind, (clean as { category: string }).category, (clean as { destiny: string }).destiny], ['verdict', 'CLEAN', 'D_PASS']);
});

test('UNCHECKED ranks below BANNED and above SPAM, with its own destiny', () => {
  const unchecked = fail('unchecked', 'x.7z: encrypted, names hidden');
  assert.equal((decide([fail('banned', 'b'), unchecked], policy) as { category: string }).category, 'BANNED');
  const verdict = decide([fail('headers', 'h'), fail('spam', 's', { score: 20 }), unchecked], policy) as { category: string; destiny: string; detail: string };
  assert.deepEqual([verdict.category, verdict.destiny, verdict.detail], ['UNCHECKED', 'D_PASS', 'x.7z: encrypted, names hidden']);
  assert.equal((decide([unchecked], { ...policy, uncheckedDestiny: 'D_DISCARD' }) as { destiny: string }).destiny, 'D_DISCARD');
  assert.equal((decide([fail('virus', 'v'), unchecked], policy) as { category: string }).category, 'VIRUS');
});

test('a check that could not run postpones the message, even if another found something', () => {
  const verdict = decide([fail('banned', 'x.exe'), { check: 'virus', result: 'error', detail: 'clamd unreachable' }], policy);
  assert.equal(verdict.kind, 'postpone');
  assert.match((verdict as { why: string }).why, /virus check failed: clamd unreachable/);
});

test('destinies come from the policy', () => {
  const verdict = decide([fail('spam', 's', { score: 9 })], { ...policy, spamDestiny: 'D_DISCARD' });
  assert.equal((verdict as { destiny: string }).destiny, 'D_DISCARD');
});

test('no bounce to the null sender, nor for spam at or above the cutoff', () => {
  const spam = (score: number) => decide([fail('spam', 's', { score })], policy) as Parameters<typeof mayBounce>[0];
  assert.equal(mayBounce(spam(8), 'a@b.c', policy), true);
  assert.equal(mayBounce(spam(10), 'a@b.c', policy), false);
  assert.equal(mayBounce(spam(8), '', policy), false);
});

test('no backscatter: a virus bounces only to an authenticated sender, a banned file not to a failed one, and the log says why', () => {
  const virus = decide([fail('virus', 'v')], policy) as Parameters<typeof mayBounce>[0];
  const banned = decide([fail('banned', 'x.exe')], policy) as Parameters<typeof mayBounce>[0];
  assert.equal(mayBounce(virus, 'a@b.c', policy), false, 'never for a virus until sender authentication lands');
  assert.match(noBounceReason(virus, 'a@b.c', policy) ?? '', /virus senders are forged.*no backscatter/);
  assert.equal(mayBounce(virus, 'a@b.c', policy, 'fail'), false);
  assert.equal(mayBounce(virus, 'a@b.c', policy, 'pass'), true, 'an authenticated sender hears of it');
  assert.equal(mayBounce(banned, 'a@b.c', policy), true, 'banned files still bounce until authentication lands');
  assert.equal(mayBounce(banned, 'a@b.c', policy, 'fail'), false);
  assert.equal(noBounceReason(banned, '', policy, 'pass'), 'null sender');
  assert.equal(mayBounce(decide([fail('headers', 'h')], policy) as Parameters<typeof mayBounce>[0], 'a@b.c', policy), true, 'bad headers still bounce');
});

test('the next hop’s answer per recipient becomes our LMTP answer for that recipient', () => {
  assert.match(String(nextHopReply({ recipient: 'a', code: 250, response: '250 queued' }, 'id1')), /^2\.0\.0 Ok: id1 delivered/);
  const refused = nextHopReply({ recipient: 'a', code: 550, response: '550 5.1.1 no such user' }, 'id1');
  assert.equal(typeof refused === 'string' ? 0 : refused.responseCode, 550);
  const deferred = nextHopReply({ recipient: 'a', code: 421, response: '421 busy' }, 'id1');
  assert.equal(typeof deferred === 'string' ? 0 : deferred.responseCode, 451);
});

test('an allow entry lifts the spam verdict only; a block entry discards as spam, but never hides a virus', () => {
  const allow = { kind: 'allow' as const, pattern: 'friend@example.net', list: 'alice', sender: 'friend@example.net' };
  const block = { kind: 'block' as const, pattern: '*@example.net', list: 'global', sender: 'friend@example.net' };
  const spam = decide([pass('virus'), fail('spam', 'score=1000', { score: 1000 }), pass('headers')], { ...policy, spamDestiny: 'D_DISCARD' });
  assert.equal(spam.kind, 'verdict');
  if (spam.kind !== 'verdict') return;
  const allowed = applyListMatch(spam, allow, policy);
  assert.deepEqual([allowed.category, allowed.destiny], ['CLEAN', 'D_PASS']);
  assert.match(allowed.listNote ?? '', /allowed \(alice list: friend@example.net\)/);
  const badHeaders = decide([fail('spam', 's', { score: 9 }), fail('headers', 'bad date')], policy);
  assert.equal(badHeaders.kind === 'verdict' && applyListMatch(badHeaders, allow, policy).category, 'BADH', 'allow lifts spam, not bad headers');
  const virus = decide([fail('virus', 'Eicar-Signature'), fail('spam', 's', { score: 1000 })], policy);
  assert.equal(virus.kind === 'verdict' && applyListMatch(virus, allow, policy).category, 'VIRUS');
  assert.equal(virus.kind === 'verdict' && applyListMatch(virus, block, policy).category, 'VIRUS');
  const clean = decide([pass('virus'), pass('spam')], policy);
  const blocked = clean.kind === 'verdict' ? applyListMatch(clean, block, policy) : undefined;
  assert.deepEqual([blocked?.category, blocked?.destiny], ['SPAM', 'D_DISCARD']);
  assert.match(blocked?.detail ?? '', /blocked \(global list: \*@example.net\)/);
});
