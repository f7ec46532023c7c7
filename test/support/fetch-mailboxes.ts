// The fetcher's side of a Dovecot test: the accounts file naming its mailboxes (POP3 over implicit
// TLS, IMAP with STARTTLS, the test CA), mailboxes filled with numbered messages, and counting
// which of them reached the sink and how often.
import { writeFileSync } from 'node:fs';
import type { Dovecot } from './dovecot.js';
import { buildMessage } from './messages.js';
import { waitFor } from './net.js';
import type { Sink } from './sink.js';

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

/** Of these subjects, those not at the sink yet and the extra copies of those that are. */
export function copiesAtSink(sink: Sink, subjects: string[]): { missing: string[]; duplicates: number } {
  const counts = new Map(subjects.map((s) => [s, 0]));
  for (const message of sink.messages) {
    const subject = /^Subject: (.*)$/m.exec(message.raw)?.[1]?.trim();
    if (subject !== undefined && counts.has(subject)) counts.set(subject, counts.get(subject)! + 1);
  }
  return { missing: [...counts].filter(([, n]) => n === 0).map(([s]) => s), duplicates: [...counts.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0) };
}

/** Waits until every subject is at the sink; what copiesAtSink then says. */
export function everyOneArrives(sink: Sink, subjects: string[]): Promise<{ missing: string[]; duplicates: number }> {
  return waitFor(
    'every message at the sink',
    () => {
      const copies = copiesAtSink(sink, subjects);
      return copies.missing.length === 0 ? copies : undefined;
    },
    240_000,
    250,
  );
}
