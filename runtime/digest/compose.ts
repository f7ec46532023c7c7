// One user's digest as a MIME message: plain text and HTML, one row per quarantined message with
// its action links. Everything taken from the messages (subject, sender) is escaped in the HTML
// and stripped of control characters in the text: a digest must not carry the spam's markup.
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { QuarantineEntry } from '../quarantine/store.js';
import type { LinkAction } from '../actions/tokens.js';
import { displayText, subjectShown, senderShown } from '../quarantine/display.js';
import { utcTime } from '../time/utc.js';

export interface DigestItem {
  entry: QuarantineEntry;
  /** The digest's reader's own addresses among the recipients: the others (Bcc) are not theirs to see. */
  recipients: string[];
  /** Action links for this message, in the order shown. */
  links: Array<{ action: LinkAction; label: string; url: string }>;
}

export interface DigestInput {
  from: string;
  to: string;
  username: string;
  viewerUrl: string;
  items: DigestItem[];
  /** Until when the links work, for the footer. */
  linksValidUntil: Date;
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const plain = (value: string, max = 120) => displayText(value, max);
/** Reasons whose name alone does not say enough to a recipient. */
const reasonOf = (reason: string) => (reason === 'SPOOFED' ? 'SPOOFED, forged sender' : reason);

export function digestText(input: DigestInput): string {
  const lines = [
    `Quarantine digest for ${input.username}`,
    '',
    `${input.items.length} message${input.items.length === 1 ? ' was' : 's were'} held for you since the last digest.`,
    'Each link opens a page where you confirm the action; nothing happens by only opening it.',
    '',
  ];
  for (const { entry, recipients, links } of input.items) {
    lines.push(`* ${plain(subjectShown(entry))}`);
    lines.push(`  From: ${plain(senderShown(entry))}`);
    lines.push(`  To: ${recipients.join(', ')}`);
    lines.push(`  Received: ${utcTime(entry.receivedAt)}   Reason: ${reasonOf(entry.reason)} (${plain(entry.detail, 80)})`);
    for (const link of links) lines.push(`  ${link.label}: ${link.url}`);
    lines.push('');
  }
  lines.push(`All your quarantined messages: ${input.viewerUrl}/messages`);
  lines.push(`These links work until ${utcTime(input.linksValidUntil.getTime())}, once each.`);
  return `${lines.join('\n')}\n`;
}

export function digestHtml(input: DigestInput): string {
  const rows = input.items
    .map(
      ({ entry, recipients, links }) => `
<tr>
<td>${escapeHtml(utcTime(entry.receivedAt))}</td>
<td>${escapeHtml(plain(senderShown(entry)))}</td>
<td>${escapeHtml(recipients.join(', '))}</td>
<td>${escapeHtml(plain(subjectShown(entry)))}</td>
<td>${escapeHtml(reasonOf(entry.reason))}</td>
<td>${links.map((l) => `<a href="${escapeHtml(l.url)}">${escapeHtml(l.label)}</a>`).join(' &middot; ')}</td>
</tr>`,
    )
    .join('');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Quarantine digest</title></head>
<body style="font-family: sans-serif">
<h2>Quarantine digest for ${escapeHtml(input.username)}</h2>
<p>${input.items.length} message${input.items.length === 1 ? ' was' : 's were'} held for you since the last digest.
Each link opens a page where you confirm the action; nothing happens by only opening it.</p>
<table border="1" cellpadding="4" cellspacing="0">
<tr><th>Received</th><th>From</th><th>To</th><th>Subject</th><th>Reason</th><th>Actions</th></tr>${rows}
</table>
<p><a href="${escapeHtml(input.viewerUrl)}/messages">All your quarantined messages</a>. These links work until ${escapeHtml(utcTime(input.linksValidUntil.getTime()))}, once each.</p>
</body></html>
`;
}

export async function composeDigest(input: DigestInput): Promise<Buffer> {
  return new MailComposer({
    from: input.from,
    to: input.to,
    subject: `Quarantine digest: ${input.items.length} message${input.items.length === 1 ? '' : 's'} held for you`,
    text: digestText(input),
    html: digestHtml(input),
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Mailfilter-Digest': input.username },
  })
    .compile()
    .build();
}
