// The bad-header check (amavisd-new's BADH): 8-bit or control bytes in headers, over-long lines,
// missing or duplicated required headers, unparsable addresses and dates, and broken MIME.
import { checkResult, type CheckResult } from './result.js';
import type { MessageHead } from '../mail/message-head.js';
import type { MimeStructure } from './mime-walk.js';

const MAX_LINE = 998;
const SINGLE = ['from', 'date', 'sender', 'reply-to', 'to', 'cc', 'subject', 'message-id', 'in-reply-to'];
const ADDRESS_HEADERS = ['from', 'sender', 'reply-to', 'to', 'cc'];
const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
// RFC 5322 date-time, with the obsolete forms real mailers still send (zone names, missing seconds).
const DATE_RE = new RegExp(
  `^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\\s*)?\\d{1,2}\\s+(?:${MONTHS})\\s+\\d{2,4}\\s+\\d{1,2}:\\d{2}(?::\\d{2})?\\s*(?:[+-]\\d{4}|UT|GMT|[ECMP][SD]T|[A-IK-Z])?(?:\\s*\\(.*\\))?$`,
  'i',
);
const ADDR_SPEC = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$|^"[^"]*"@[^\s@<>(),;:"]+$/;

function stripComments(value: string): string {
  let previous = '';
  let current = value;
  while (previous !== current) {
    previous = current;
    current = current.replace(/\((?:[^()\\]|\\.)*\)/g, ' ');
  }
  return current;
}

/** True when every comma-separated item is `addr-spec`, `phrase <addr-spec>`, or a group. */
export function isValidAddressList(value: string, allowGroups: boolean): boolean {
  let body = stripComments(value).replace(/"(?:[^"\\]|\\.)*"/g, '"q"');
  if (allowGroups) body = body.replace(/[^,:;<>@]+:([^;]*);/g, (_, members: string) => (members.trim() ? members : ''));
  const items = body
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) return allowGroups;
  return items.every((item) => {
    const angle = /^(?:[^<>]*)<([^<>]*)>$/.exec(item);
    const spec = angle ? angle[1]!.trim().replace(/^@[^:]+:/, '') : item;
    return ADDR_SPEC.test(spec.replace(/"q"/g, '"x"'));
  });
}

function linesOf(raw: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = raw.indexOf(0x0a); i !== -1; i = raw.indexOf(0x0a, start)) {
    lines.push(raw.subarray(start, i));
    start = i + 1;
  }
  if (start < raw.length) lines.push(raw.subarray(start));
  return lines;
}

function byteProblems(raw: Buffer, where: string): string[] {
  const problems: string[] = [];
  for (const line of linesOf(raw)) {
    const content = line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line;
    if (content.length > MAX_LINE) problems.push(`header line longer than ${MAX_LINE} characters in ${where}`);
    if (content.some((b) => b >= 0x80)) problems.push(`non-encoded 8-bit data in ${where}`);
    if (content.some((b) => b === 0 || b === 0x0d)) problems.push(`NUL or bare CR in ${where}`);
  }
  return problems;
}

export function checkHeaders(head: MessageHead, structure: MimeStructure): CheckResult {
  const problems: string[] = [];
  if (!head.complete) problems.push('header section larger than 1 MiB');
  const counts = new Map<string, number>();
  for (const field of head.fields) {
    const name = field.name.toLowerCase();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(field.name)) {
      problems.push(`malformed header line ${JSON.stringify(field.value.slice(0, 40))}`);
      continue;
    }
    counts.set(name, (counts.get(name) ?? 0) + 1);
    problems.push(...byteProblems(field.raw, `header ${field.name}`));
    if (ADDRESS_HEADERS.includes(name) && !isValidAddressList(field.value, name === 'to' || name === 'cc')) {
      problems.push(`invalid address syntax in ${field.name}: ${JSON.stringify(field.value.slice(0, 60))}`);
    }
    if (name === 'date' && !DATE_RE.test(field.value)) problems.push(`invalid Date: ${JSON.stringify(field.value.slice(0, 60))}`);
  }
  for (const required of ['From', 'Date']) {
    if (!counts.has(required.toLowerCase())) problems.push(`missing required header ${required}`);
  }
  for (const name of SINGLE) {
    if ((counts.get(name) ?? 0) > 1) problems.push(`duplicate header ${name}`);
  }
  for (const part of structure.parts) {
    if (part.root) continue;
    problems.push(...byteProblems(part.headerBytes, `MIME part ${part.partId} headers`));
  }
  problems.push(...structure.problems);
  const unique = [...new Set(problems)];
  if (unique.length === 0) return checkResult('headers', 'pass', 'headers ok');
  const more = unique.length > 1 ? ` (+${unique.length - 1} more)` : '';
  return checkResult('headers', 'fail', unique[0] + more, { tests: unique.slice(0, 20) });
}
