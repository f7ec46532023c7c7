// What the authentication results mean for this message: forged (SPOOFED), suspect (DMARC's
// p=quarantine, counted as spam), or neither; and whether the envelope sender is authenticated,
// which decides whether a bounce notice may go to it. The gathering is in auth.ts.
import { checkResult, type AuthReport, type CheckResult } from './result.js';
import type { AuthFacts } from './auth.js';

export interface AuthContext {
  /** The organisation's domains: mail.relayDomains and mail.externalDomain. */
  ourDomains: string[];
  /** The client is in the allowed networks (mynetworks). */
  clientInside: boolean;
  clientAddress: string;
  mailFrom: string;
  trustedSealers: string[];
}

/** Relaxed alignment, as DMARC's, short of the public suffix list: the same domain, or one below the other. */
export function aligned(a: string, b: string): boolean {
  if (!a || !b) return false;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`);
}

/** The domain is one of `domains` or below one. */
const within = (domain: string, domains: string[]) => domains.some((d) => domain === d || domain.endsWith(`.${d}`));

function senderAuthOf(facts: AuthFacts, domain: string, spfPass: (d: string) => boolean, dkimPass: (d: string) => boolean): AuthReport['senderAuth'] {
  if (domain === '') return 'unknown';
  if (spfPass(domain) || dkimPass(domain)) return 'pass';
  const spfFailed = facts.spf.result === 'fail' && aligned(facts.spf.domain, domain);
  const dkimFailed = facts.dkim.some((d) => d.result === 'fail' && aligned(d.domain, domain));
  return spfFailed || dkimFailed ? 'fail' : 'unknown';
}

export function judgeAuth(facts: AuthFacts, context: AuthContext): CheckResult {
  const spfPassFor = (domain: string) => facts.spf.result === 'pass' && aligned(facts.spf.domain, domain);
  const dkimPassFor = (domain: string) => facts.dkim.some((d) => d.result === 'pass' && aligned(d.domain, domain));
  const { arc, dmarc, fromDomain } = facts;
  const earlierPassed =
    arc !== null && (arc.earlier.dmarc === 'pass' || (arc.earlier.dmarc === '' && (arc.earlier.spf === 'pass' || arc.earlier.dkim.includes('pass'))));
  const trustedArc = arc !== null && arc.result === 'pass' && within(arc.sealer, context.trustedSealers) && earlierPassed;
  const mailFromDomain = context.mailFrom.includes('@') ? context.mailFrom.slice(context.mailFrom.lastIndexOf('@') + 1).toLowerCase() : '';
  const report: AuthReport = {
    verdict: null,
    senderAuth: senderAuthOf(facts, mailFromDomain, spfPassFor, dkimPassFor),
    rows: facts.rows,
  };
  const summary = `spf=${facts.spf.result} dkim=${facts.dkim.map((d) => d.result).join(',') || 'none'} dmarc=${dmarc?.result ?? 'none'} arc=${arc?.result ?? 'none'}`;
  const arcNote = trustedArc ? `, overridden: ARC chain sealed by trusted ${arc!.sealer} whose earlier results passed (forwarded mail)` : '';
  const reasons: string[] = [];

  if (dmarc && dmarc.result === 'fail' && (dmarc.policy === 'reject' || dmarc.policy === 'quarantine')) {
    reasons.push(`DMARC fail for ${dmarc.domain} (p=${dmarc.policy})${arcNote}`);
    if (!trustedArc) report.verdict = dmarc.policy === 'reject' ? 'spoofed' : 'quarantine';
  }
  if (fromDomain && within(fromDomain, context.ourDomains) && !context.clientInside && !spfPassFor(fromDomain) && !dkimPassFor(fromDomain)) {
    reasons.push(
      `From: ${fromDomain} is our own domain, sent from ${context.clientAddress} outside the allowed networks without SPF pass or aligned DKIM${arcNote}`,
    );
    if (!trustedArc) report.verdict = 'spoofed';
  }
  const detail = [...reasons, summary].join('; ');
  if (report.verdict === null) return checkResult('auth', 'pass', detail, { auth: report });
  // A DNS failure is not a forgery: the message waits and is checked again.
  const temporary = [facts.spf.result, dmarc?.result ?? '', ...facts.dkim.map((d) => d.result)].includes('temperror');
  if (temporary) return checkResult('auth', 'error', `DNS lookup failed temporarily (${summary})`, { auth: report });
  return checkResult('auth', 'fail', detail, { auth: report });
}
