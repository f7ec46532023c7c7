// Turns check results into one verdict, as amavisd-new does: the highest category found wins
// (VIRUS, then BANNED, then UNCHECKED, then SPAM, then BADH), and the policy gives that category's
// destiny. UNCHECKED is content our decoders could not open: it outranks spam, never counts as clean.
// A check that could not run makes the whole message wait: a scanner failure is never "clean".
import type { CheckName, CheckResult } from '../checks/result.js';
import type { Category, PolicyConfig } from '../config/schema.js';
import type { Destiny } from '../config/fields.js';
import { listNote, type ListMatch } from '../lists/sender-lists.js';

export const PRECEDENCE: ReadonlyArray<readonly [CheckName, Category]> = [
  ['virus', 'VIRUS'],
  ['banned', 'BANNED'],
  ['unchecked', 'UNCHECKED'],
  ['spam', 'SPAM'],
  ['headers', 'BADH'],
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

export function destinyOf(category: Category | 'CLEAN', policy: PolicyConfig): Destiny {
  switch (category) {
    case 'CLEAN':
      return 'D_PASS';
    case 'VIRUS':
      return policy.virusDestiny;
    case 'BANNED':
      return policy.bannedDestiny;
    case 'UNCHECKED':
      return policy.uncheckedDestiny;
    case 'SPAM':
      return policy.spamDestiny;
    case 'BADH':
      return policy.badHeaderDestiny;
  }
}

export function decide(results: CheckResult[], policy: PolicyConfig): Verdict | Postpone {
  const failed = results.filter((r) => r.result === 'error');
  if (failed.length > 0) return { kind: 'postpone', why: failed.map((r) => `${r.check} check failed: ${r.detail}`).join('; ') };
  for (const [check, category] of PRECEDENCE) {
    const hit = results.find((r) => r.check === check && r.result === 'fail');
    if (hit) return { kind: 'verdict', category, destiny: destinyOf(category, policy), detail: hit.detail, results };
  }
  return { kind: 'verdict', category: 'CLEAN', destiny: 'D_PASS', detail: 'clean', results };
}

/** What sender authentication (SPF pass or aligned DKIM) said; 'unknown' until it lands. */
export type SenderAuth = 'pass' | 'fail' | 'unknown';

/**
 * Why no bounce notice goes to this sender, or null when one may. Virus senders are forged almost
 * always: their notice goes only to an authenticated sender (so none until authentication lands).
 * Banned files come from real senders often enough: no notice once authentication failed.
 * Spam that scores this high is forged too.
 */
export function noBounceReason(verdict: Verdict, mailFrom: string, policy: PolicyConfig, senderAuth: SenderAuth = 'unknown'): string | null {
  if (mailFrom === '') return 'null sender';
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
 * A recipient's sender lists applied to the message's verdict. Allow lifts the spam verdict only
 * (never a virus, banned or bad-header one); block makes spam of the message, discarded (kept in
 * the quarantine, no notice to the sender), unless a virus or banned file already decided.
 */
export function applyListMatch(verdict: Verdict, match: ListMatch | null, policy: PolicyConfig): Verdict {
  if (!match) return verdict;
  const results = verdict.results;
  if (match.kind === 'block') {
    if (verdict.category === 'VIRUS' || verdict.category === 'BANNED') return verdict;
    const note = listNote(match);
    return { ...verdict, category: 'SPAM', destiny: 'D_DISCARD', detail: note, listNote: note };
  }
  const spam = results.find((r) => r.check === 'spam');
  if (!spam || spam.result !== 'fail') return verdict;
  const note = listNote(match);
  const lifted = results.map((r) => (r === spam ? { ...r, result: 'pass' as const } : r));
  const redecided = decide(lifted, policy);
  return redecided.kind === 'verdict' ? { ...redecided, listNote: note } : verdict;
}
