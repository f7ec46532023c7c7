// What every check reports (as Haraka's transaction results): a verdict, or 'error' when the check
// could not run. An error is never a clean result: the message waits in Postfix's queue.
// 'unchecked' is reported by the banned check's decoders: content they could not decode.
import type { AuthReport } from './auth-judge.js';

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

export function checkResult(check: CheckName, result: CheckResult['result'], detail: string, extra: Partial<CheckResult> = {}): CheckResult {
  return { check, result, detail, ...extra };
}
