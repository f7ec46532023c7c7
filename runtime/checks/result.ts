// What every check reports (as Haraka's transaction results): a verdict, or 'error' when the check
// could not run. An error is never a clean result: the message waits in Postfix's queue.
// 'unchecked' is reported by the banned check's decoders: content they could not decode.
export type CheckName = 'virus' | 'banned' | 'unchecked' | 'spam' | 'headers' | 'auth';

export interface CheckResult {
  check: CheckName;
  result: 'pass' | 'fail' | 'skip' | 'error';
  /** Human words for logs, headers and the viewer: virus name, banned file, score, header problem. */
  detail: string;
  /** Spam check only. */
  score?: number;
  tests?: string[];
  /** Auth check only: SPF, DKIM, DMARC and ARC as judged. */
  auth?: AuthReport;
}

/** The auth check's findings as the decision and the headers use them. */
export interface AuthReport {
  verdict: 'spoofed' | 'quarantine' | null;
  /**
   * The envelope sender: 'pass' when SPF passed for its domain or a DKIM signature of that domain
   * did; 'fail' when SPF failed outright (-all) or its domain's signature failed, and nothing passed;
   * 'unknown' otherwise (no SPF record, softfail, no signature).
   */
  senderAuth: 'pass' | 'fail' | 'unknown';
  /** Authentication-Results rows (RFC 8601), without the authserv-id. */
  rows: string[];
  /**
   * The client was inside the allowed networks (our own users' mail): nothing was checked, rows is
   * empty and senderAuth 'unknown' until a bounce asks (spfSenderAuth in auth.ts).
   */
  inside?: true;
}

export function checkResult(check: CheckName, result: CheckResult['result'], detail: string, extra: Partial<CheckResult> = {}): CheckResult {
  return { check, result, detail, ...extra };
}
