// The delivery status notification (RFC 3464) sent for D_BOUNCE. It carries the original headers
// only, never the body: a virus is not mailed back.
import { randomBytes } from 'node:crypto';
import type { Verdict } from './decide.js';

export interface BounceInput {
  reportingHost: string;
  sender: string;
  recipients: string[];
  verdict: Verdict;
  quarantineId: string;
  arrivalDate: Date;
  originalHead: Buffer;
}

const STATUS: Record<string, { status: string; words: string }> = {
  VIRUS: { status: '5.7.0', words: 'it contains a virus' },
  BANNED: { status: '5.7.0', words: 'it contains a file type that is not accepted' },
  SPAM: { status: '5.7.0', words: 'it was classified as spam' },
  BADH: { status: '5.6.0', words: 'its header is malformed' },
};

function oneLine(value: string): string {
  return value
    .replace(/[\r\n]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 400);
}

export function buildBounce(input: BounceInput): Buffer {
  const { reportingHost, verdict } = input;
  const reason = STATUS[verdict.category] ?? { status: '5.7.0', words: 'it was refused by the content filter' };
  const boundary = `----=_dsn_${randomBytes(12).toString('hex')}`;
  const detail = oneLine(verdict.detail);
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${reportingHost}>`,
    `To: ${oneLine(input.sender)}`,
    `Subject: Undelivered mail: ${verdict.category === 'VIRUS' ? `virus found (${detail})` : reason.words}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${input.quarantineId}.dsn@${reportingHost}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
  ];
  const human = [
    `This is the mail filter at ${reportingHost}.`,
    '',
    `Your message to ${input.recipients.map(oneLine).join(', ')} was not delivered because ${reason.words}:`,
    `  ${verdict.category}: ${detail}`,
    '',
    `It is held in quarantine as ${input.quarantineId}. If you think this is a mistake, contact the`,
    'recipient by other means and quote that reference.',
  ];
  const perRecipient = input.recipients.flatMap((recipient) => [
    '',
    `Final-Recipient: rfc822; ${oneLine(recipient)}`,
    'Action: failed',
    `Status: ${reason.status}`,
    `Diagnostic-Code: smtp; 554 ${reason.status} Rejected by content filter, id=${input.quarantineId} - ${verdict.category}: ${detail}`,
  ]);
  const status = [`Reporting-MTA: dns; ${reportingHost}`, `Arrival-Date: ${input.arrivalDate.toUTCString().replace('GMT', '+0000')}`, ...perRecipient];
  const originalHead = input.originalHead.toString('latin1').replace(/\r?\n/g, '\r\n');
  const body = [
    ...head,
    '',
    'This is a MIME-encapsulated delivery status notification.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    ...human,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    ...status,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(body + '\r\n', 'utf8'), Buffer.from(originalHead, 'latin1'), Buffer.from(`\r\n--${boundary}--\r\n`)]);
}
