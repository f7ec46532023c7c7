// Turns check results into one verdict, as amavisd-new does: the highest category found wins
// (VIRUS, then BANNED, then UNCHECKED, then SPOOFED, then SPAM, then BADH), and the policy gives that
// category's destiny. UNCHECKED is content our decoders could not open: it outranks spam, never
// counts as clean. SPOOFED is forged sender authentication; DMARC's p=quarantine counts as SPAM.
// A check that could not run makes the whole message wait: a scanner failure is never "clean".
import type { CheckName, CheckResult } from '../checks/result.js';
import type { Category, PolicyConfig } from '../config/schema.js';
import type { Destiny } from '../config/fields.js';
import { listNote, type ListMatch } from '../lists/sender-lists.js';

const failed = (check: CheckName, authVerdict?: 'spoofed' | 'quarantine') => (r: CheckResult) =>
  r.check === check && r.result === 'fail' && (authVerdict === undefined || r.auth?.verdict === authVerdict);

export const PRECEDENCE: ReadonlyArray<readonly [Category, (r: CheckResult) => boolean]> = [
  ['VIRUS', failed('virus')],
  ['BANNED', failed('banned')],
  ['UNCHECKED', failed('unchecked')],
  ['SPOOFED', failed('auth', 'spoofed')],
  ['SPAM', (r) => failed('spam')(r) || failed('auth', 'quarantine')(r)],
  ['BADH', failed('headers')],
];

export interface Verdict {
  kind: 'verdict';
  category: Category | 'CLEAN';
  destiny: Destiny;
  /** The deciding check's words: virus name, banned file, score, header problem. */
  detail: string;
  results: CheckResult[];
  /** Set when a sender list changed the verdict: which entry, for a header and the log. */
  listNote?: string;
}

export interface Postpone {
  kind: 'postpone';
  why: string;
}

/** The setting that holds each category's destiny. */
const DESTINY_SETTING = {
  VIRUS: 'virusDestiny',
  BANNED: 'bannedDestiny',
  UNCHECKED: 'uncheckedDestiny',
  SPOOFED: 'spoofedDestiny',
  SPAM: 'spamDestiny',
  BADH: 'badHeaderDestiny',
} as const satisfies Record<Category, keyof PolicyConfig>;

export function destinyOf(category: Category | 'CLEAN', policy: PolicyConfig): Destiny {
  return category === 'CLEAN' ? 'D_PASS' : policy[DESTINY_SETTING[category]];
}

export function decide(results: CheckResult[], policy: PolicyConfig): Verdict | Postpone {
  const failed = results.filter((r) => r.result === 'error');
  if (failed.length > 0) return { kind: 'postpone', why: failed.map((r) => `${r.check} check failed: ${r.detail}`).join('; ') };
  for (const [category, matches] of PRECEDENCE) {
    // Spam and a DMARC quarantine together: both reasons, the score first (the viewer sorts by it).
    const hits = results.filter(matches);
    if (hits.length > 0) return { kind: 'verdict', category, destiny: destinyOf(category, policy), detail: hits.map((h) => h.detail).join('; '), results };
  }
  return { kind: 'verdict', category: 'CLEAN', destiny: 'D_PASS', detail: 'clean', results };
}

/** What sender authentication said of the envelope sender (auth-judge.ts); 'unknown' also when it did not run. */
export type SenderAuth = 'pass' | 'fail' | 'unknown';

export function senderAuthOf(results: CheckResult[]): SenderAuth {
  return results.find((r) => r.check === 'auth')?.auth?.senderAuth ?? 'unknown';
}

/**
 * Why no bounce notice goes to this sender, or null when one may. Virus senders are forged almost
 * always: their notice goes only to an authenticated sender (SPF pass or DKIM of its own domain).
 * Banned files come from real senders often enough: no notice once authentication failed.
 * Spam that scores this high is forged too.
 */
export function noBounceReason(verdict: Verdict, mailFrom: string, policy: PolicyConfig, senderAuth: SenderAuth = 'unknown'): string | null {
  if (mailFrom === '') return 'null sender';
  if (verdict.category === 'SPOOFED') return 'the sender is forged (no backscatter)';
  if (verdict.category === 'VIRUS' && senderAuth !== 'pass') return 'virus senders are forged: notice only to an authenticated sender (no backscatter)';
  if (verdict.category === 'BANNED' && senderAuth === 'fail') return 'sender not authenticated (no backscatter)';
  if (verdict.category !== 'SPAM') return null;
  const score = verdict.results.find((r) => r.check === 'spam')?.score ?? Infinity;
  return score < policy.dsnCutoffLevel ? null : `spam score at or above ${policy.dsnCutoffLevel}`;
}

export function mayBounce(verdict: Verdict, mailFrom: string, policy: PolicyConfig, senderAuth: SenderAuth = 'unknown'): boolean {
  return noBounceReason(verdict, mailFrom, policy, senderAuth) === null;
}

/**
 * A recipient's sender lists applied to the message's verdict. Allow lifts the spam verdict (never
 * a virus, banned or bad-header one) and, for a sender outside our own domains (a newsletter
 * service), the authentication verdict (SPOOFED, DMARC quarantine): an allow entry for our own
 * domain must not let its forgeries in. Block makes spam of the message, discarded (kept in the
 * quarantine, no notice to the sender), unless a virus, banned file or forgery already decided.
 */
export function applyListMatch(verdict: Verdict, match: ListMatch | null, policy: PolicyConfig, ownDomains: string[] = []): Verdict {
  if (!match) return verdict;
  const results = verdict.results;
  if (match.kind === 'block') {
    if (verdict.category === 'VIRUS' || verdict.category === 'BANNED' || verdict.category === 'SPOOFED') return verdict;
    const note = listNote(match);
    return { ...verdict, category: 'SPAM', destiny: 'D_DISCARD', detail: note, listNote: note };
  }
  const senderDomain = match.sender.slice(match.sender.lastIndexOf('@') + 1).toLowerCase();
  const thirdParty = !ownDomains.some((d) => senderDomain === d || senderDomain.endsWith(`.${d}`));
  const liftable = (r: CheckResult) => r.result === 'fail' && (r.check === 'spam' || (r.check === 'auth' && thirdParty));
  if (!results.some(liftable)) return verdict;
  const note = listNote(match);
  const lifted = results.map((r) => (liftable(r) ? { ...r, result: 'pass' as const } : r));
  const redecided = decide(lifted, policy);
  return redecided.kind === 'verdict' ? { ...redecided, listNote: note } : verdict;
}
