// Polls one mailbox: opens the POP3 or IMAP session and hands it to drain(), which gives every
// message its outcome (see drain.ts). Also turns a failed poll's error into words an admin can act on.
import { readFileSync } from 'node:fs';
import { accountKey, type FetchAccount, type FetchServer } from './accounts.js';
import { drain, type DrainDeps, type PollSummary } from './drain.js';
import { openImap } from './imap-mailbox.js';
import { openPop3 } from './pop3-mailbox.js';
import type { MailServerAddress } from './pop3.js';

export type { PollSummary } from './drain.js';

function serverAddress(server: FetchServer, timeoutMs: number): MailServerAddress {
  return {
    host: server.host,
    port: server.port,
    tls: server.tls,
    verifyCertificate: server.verifyCertificate,
    ...(server.caFile ? { ca: readFileSync(server.caFile) } : {}),
    timeoutMs,
  };
}

/** Turns a library's error into words an admin can act on. */
export function explainFailure(err: unknown, server: FetchServer): string {
  const error = err as Error & { authenticationFailed?: boolean; responseText?: string; stage?: string; code?: string };
  const said = error.responseText ?? error.message;
  if (error.authenticationFailed || error.stage === 'login') return `login refused (${said}); check the user and password in the accounts file`;
  if (error.stage === 'tls' || /certificate|self.signed|SSL|TLS/i.test(said))
    return `TLS failed (${said}); check tls, caFile or verifyCertificate for ${server.host}`;
  if (error.code === 'ECONNREFUSED' || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|cannot connect/i.test(said)) return `server unreachable (${said})`;
  return said;
}

export function pollAccount(server: FetchServer, account: FetchAccount, deps: DrainDeps & { timeoutMs: number }): Promise<PollSummary> {
  const address = serverAddress(server, deps.timeoutMs);
  const open =
    server.protocol === 'pop3'
      ? () => openPop3(address, account.user, account.password)
      : () => openImap(address, account.user, account.password, account.folder);
  return drain(accountKey(server, account), account, open, deps);
}
