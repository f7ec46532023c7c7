// The fetcher's side of a Dovecot test: the accounts file naming its mailboxes (POP3 over implicit
// TLS, IMAP with STARTTLS, the test CA), and mailboxes filled with numbered messages.
import { writeFileSync } from 'node:fs';
import type { Dovecot } from './dovecot.js';
import { buildMessage } from './messages.js';

export interface MailboxSpec {
  user: string;
  protocol: 'pop3' | 'imap';
  keep: boolean;
  /** Dovecot's password for the user unless given: `pw-<user>`. */
  password?: string;
}

/** Writes the accounts file; mail for user@x is delivered to the local part at company.local. */
export function writeFetchAccounts(
  path: string,
  dovecot: Dovecot,
  caFile: string,
  mailboxes: MailboxSpec[],
  options: { verify?: boolean; ca?: boolean } = {},
): void {
  const servers = mailboxes.map((m) => ({
    host: '127.0.0.1',
    protocol: m.protocol,
    ...(m.protocol === 'pop3' ? { tls: 'implicit', port: dovecot.ports.pop3s } : { tls: 'starttls', port: dovecot.ports.imap }),
    verifyCertificate: options.verify ?? true,
    caFile: options.ca === false ? '' : caFile,
    accounts: [{ user: m.user, password: m.password ?? `pw-${m.user}`, deliverTo: `${m.user.split('@')[0]}@company.local`, keep: m.keep }],
  }));
  writeFileSync(path, JSON.stringify({ servers }, null, 2));
}

/** Puts `count` messages in the user's INBOX; their subjects, unique to this run. */
export function fillMailbox(dovecot: Dovecot, user: string, count: number, tag: string): string[] {
  const subjects = Array.from({ length: count }, (_, i) => `${tag} ${i} ${Date.now()}`);
  for (const subject of subjects) dovecot.deliver(user, buildMessage({ subject, to: user }));
  return subjects;
}
