// One Postfix log line turned into what the door did, if anything, and the UTC day it did it.
// Counted once per refusal: postscreen's `DNSBL rank` line (not its per-RCPT "blocked using"
// replies that follow), smtpd's rejects per recipient, and anvil's warnings (the 4xx it answers
// is not logged). Greylisting is counted by the policy service itself: Postfix never logs a pass.
import type { DoorKind } from './door-kinds.js';
import { utcDay } from '../time/utc.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// rsyslog's RFC 3339 stamp (Debian 12's default), or the traditional "Dec  2 20:34:15" of
// Postfix's own maillog_file and older syslogs, which has no year and is local time.
const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))\s/;
const TRADITIONAL = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)\s/;

/** When the line was written (ms), or undefined when it has no stamp we know. */
export function lineTime(line: string, nowMs: number): number | undefined {
  const rfc = RFC3339.exec(line);
  if (rfc) return Date.parse(rfc[1]!);
  const old = TRADITIONAL.exec(line);
  if (!old) return undefined;
  const month = MONTHS.indexOf(old[1]!);
  if (month < 0) return undefined;
  const now = new Date(nowMs);
  const at = (year: number) => new Date(year, month, Number(old[2]), Number(old[3]), Number(old[4]), Number(old[5])).getTime();
  // A stamp more than a day ahead is last year's (a January run reading December's lines).
  const thisYear = at(now.getFullYear());
  return thisYear > nowMs + 86400_000 ? at(now.getFullYear() - 1) : thisYear;
}

// The program tag: postfix/postscreen[12], also an instance's or service's postfix/reinject/smtpd[12].
const PROGRAM = /\spostfix[^\s:]*\/(postscreen|smtpd)\[\d+\]: /;

function kindOf(program: string, message: string): DoorKind | undefined {
  if (program === 'postscreen') {
    if (/^DNSBL rank \d+ for /.test(message)) return 'dnsbl';
    if (/^PREGREET \d+ after /.test(message)) return 'pregreet';
    return undefined;
  }
  if (/^warning: .*(rate|concurrency) limit exceeded: /.test(message)) return 'rate-limit';
  if (!/^(NOQUEUE|[0-9A-Za-z]+): reject: RCPT from /.test(message)) return undefined;
  if (/: 5\d\d 5\.7\.1 Service unavailable; client \[[^\]]*\] blocked using /.test(message)) return 'dnsbl';
  if (/: 5\d\d 5\.1\.1 <[^>]*>: Recipient address rejected: (undeliverable address|User unknown)/.test(message)) return 'unknown-recipient';
  return undefined;
}

export interface DoorEvent {
  day: string;
  kind: DoorKind;
}

export function doorEventOf(line: string, nowMs = Date.now()): DoorEvent | undefined {
  const program = PROGRAM.exec(line);
  if (!program) return undefined;
  const kind = kindOf(program[1]!, line.slice(program.index + program[0].length));
  if (!kind) return undefined;
  const at = lineTime(line, nowMs);
  return at === undefined || Number.isNaN(at) ? undefined : { day: utcDay(at), kind };
}
