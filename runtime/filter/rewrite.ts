// Builds the header section a delivered message carries: our trace headers on top (our
// Authentication-Results first, RFC 8601), forged X-Spam-* headers and Authentication-Results
// claiming our authserv-id removed, the subject tagged when spam is passed on.
import type { MessageHead } from '../mail/message-head.js';
import type { Verdict } from './decide.js';
import { spamGivenUp } from '../checks/spam.js';
import { authservIdIn } from '../checks/auth-results.js';

const SPAM_HEADERS = new Set(['x-spam-flag', 'x-spam-status', 'x-spam-level', 'x-spam-score']);

export interface RewriteOptions {
  scannedBy: string;
  spamLevel: number;
  subjectTag: string;
  /** Our name in Authentication-Results; incoming ones with it are forged. Without it none is added or removed. */
  authservId?: string;
}

export function authenticationResults(verdict: Verdict, authservId: string | undefined, eol: string): string {
  if (!authservId) return '';
  const auth = verdict.results.find((r) => r.check === 'auth')?.auth;
  // RFC 8601's "none": no method was applied; the comment says why (our own users' mail).
  if (auth?.inside) return `Authentication-Results: ${authservId} (client inside the allowed networks: not checked); none${eol}`;
  if (!auth || auth.rows.length === 0) return '';
  const rows = auth.rows.map((row) => row.replace(/[\r\n]+/g, ' '));
  return `Authentication-Results: ${authservId};${eol}\t${rows.join(`;${eol}\t`)}${eol}`;
}

function fold(name: string, value: string, eol: string): string {
  // Fold long test lists at commas so no line passes 78 characters.
  const words = value.split(' ');
  const lines: string[] = [];
  let line = `${name}:`;
  for (const word of words) {
    if (line.length + 1 + word.length > 78 && line.length > name.length + 1) {
      lines.push(line);
      line = `\t${word}`;
    } else {
      line += ` ${word}`;
    }
  }
  lines.push(line);
  return lines.join(eol) + eol;
}

export function addedHeaders(verdict: Verdict, options: RewriteOptions, eol: string): string {
  let out = authenticationResults(verdict, options.authservId, eol) + fold('X-Virus-Scanned', options.scannedBy, eol);
  const spam = verdict.results.find((r) => r.check === 'spam');
  if (spam && spam.score !== undefined) {
    const isSpam = spam.result === 'fail';
    const score = Math.round(spam.score * 1000) / 1000;
    out += `X-Spam-Flag: ${isSpam ? 'YES' : 'NO'}${eol}`;
    out += `X-Spam-Score: ${score}${eol}`;
    out += `X-Spam-Level: ${'*'.repeat(Math.max(0, Math.min(64, Math.floor(spam.score))))}${eol}`;
    out += fold('X-Spam-Status', `${isSpam ? 'Yes' : 'No'}, score=${score} required=${options.spamLevel} tests=[${(spam.tests ?? []).join(', ')}]`, eol);
  } else if (spam && spamGivenUp(spam)) {
    out += `X-Spam-Flag: NO${eol}`;
    out += fold('X-Spam-Status', `No, check timed out (${spam.detail.replace(/^given up: /, '')}) required=${options.spamLevel}`, eol);
  }
  if (verdict.listNote) out += fold('X-Mailfilter-List', verdict.listNote.replace(/[^\x20-\x7e]/g, '?').slice(0, 300), eol);
  if (verdict.category !== 'CLEAN' && verdict.category !== 'SPAM') {
    out += fold('X-Mailfilter-Alert', `${verdict.category}: ${verdict.detail.replace(/[\r\n]+/g, ' ').slice(0, 300)}`, eol);
  }
  return out;
}

export function deliveryHead(head: MessageHead, verdict: Verdict, options: RewriteOptions): Buffer {
  const eol = head.raw.includes('\r\n') || head.raw.length === 0 ? '\r\n' : '\n';
  // Our X-Spam-* headers replace any from outside, whenever we write some.
  const spamChecked = verdict.results.some((r) => r.check === 'spam' && (r.score !== undefined || spamGivenUp(r)));
  const tagSubject = (verdict.category === 'SPAM' || verdict.category === 'UNCHECKED') && options.subjectTag !== '';
  const ourId = options.authservId?.toLowerCase();
  const kept: Buffer[] = [Buffer.from(addedHeaders(verdict, options, eol), 'utf8')];
  let sawSubject = false;
  for (const field of head.fields) {
    const name = field.name.toLowerCase();
    if (spamChecked && SPAM_HEADERS.has(name)) continue;
    if (ourId && name === 'authentication-results' && authservIdIn(field.raw.toString('latin1').slice(field.raw.indexOf(':') + 1)) === ourId) continue;
    if (name === 'subject' && tagSubject && !sawSubject) {
      sawSubject = true;
      const colon = field.raw.indexOf(':');
      const value = field.raw.subarray(colon + 1);
      const already = value.toString('latin1').trimStart().startsWith(options.subjectTag.trim());
      kept.push(
        already
          ? field.raw
          : Buffer.concat([Buffer.from(`Subject: ${options.subjectTag}`), Buffer.from(value.toString('latin1').replace(/^[ \t]+/, ''), 'latin1')]),
      );
      continue;
    }
    kept.push(field.raw[field.raw.length - 1] === 0x0a ? field.raw : Buffer.concat([field.raw, Buffer.from(eol)]));
  }
  if (tagSubject && !sawSubject) kept.push(Buffer.from(`Subject: ${options.subjectTag.trim()}${eol}`));
  // The blank line that ends the header section.
  kept.push(Buffer.from(eol));
  return Buffer.concat(kept);
}
