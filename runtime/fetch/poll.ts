// Polls one mailbox: every message not fetched before is streamed to a temp file, injected into
// Postfix, recorded as seen, and only then (keep off) deleted on the server. A failure stops this
// mailbox for this round, deleting nothing that was not accepted; the next poll takes it up again.
import { createWriteStream, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import type { Logger } from '../log.js';
import { accountKey, type FetchAccount, type FetchServer } from './accounts.js';
import { Pop3Client, type MailServerAddress } from './pop3.js';
import type { SeenState } from './seen-state.js';
import type { Injector } from './inject.js';

export interface PollDeps {
  state: SeenState;
  injector: Injector;
  tempDir: string;
  timeoutMs: number;
  log: Logger;
}

export interface PollSummary {
  account: string;
  fetched: number;
  deleted: number;
  alreadySeen: number;
}

export class InjectError extends Error {
  override name = 'InjectError';
}

/** Where a message is on the server, and how to get and delete it. */
interface RemoteMessage {
  uid: string;
  download(path: string): Promise<void>;
  remove(): Promise<void>;
}

async function drain(key: string, account: FetchAccount, messages: RemoteMessage[], deps: PollDeps): Promise<PollSummary> {
  const summary: PollSummary = { account: key, fetched: 0, deleted: 0, alreadySeen: 0 };
  deps.state.prune(key, new Set(messages.map((m) => m.uid)));
  const fresh = messages.filter((m) => !deps.state.has(key, m.uid)).length;
  if (fresh > 0) deps.log.info('new messages', { account: key, count: fresh, on_server: messages.length });
  for (const message of messages) {
    if (deps.state.has(key, message.uid)) {
      summary.alreadySeen += 1;
      // Injected in an earlier poll that ended before its delete took effect.
      if (!account.keep) {
        await message.remove();
        summary.deleted += 1;
      }
      continue;
    }
    const path = join(deps.tempDir, `${randomBytes(8).toString('hex')}.eml`);
    try {
      await message.download(path);
      await deps.injector.inject(path, account.deliverTo).catch((err: Error) => {
        throw new InjectError(`local Postfix did not take the message (${err.message}); nothing was deleted, it is fetched again next poll`);
      });
    } finally {
      await rm(path, { force: true });
    }
    deps.state.record(key, message.uid);
    summary.fetched += 1;
    if (!account.keep) {
      await message.remove();
      summary.deleted += 1;
    }
    if (summary.fetched % 50 === 0) deps.log.info('progress', { account: key, fetched: summary.fetched, of: fresh });
  }
  return summary;
}

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

async function pollPop3(server: FetchServer, account: FetchAccount, deps: PollDeps): Promise<PollSummary> {
  const client = await Pop3Client.connect(serverAddress(server, deps.timeoutMs));
  try {
    await client.login(account.user, account.password);
    const list = await client.uidl();
    const summary = await drain(accountKey(server, account), account, list.map(({ number, uid }) => ({
      uid,
      download: async (path) => {
        const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
        await client.retrieve(number, out);
        out.end();
        await new Promise<void>((resolve, reject) => out.once('close', resolve).once('error', reject));
      },
      remove: () => client.delete(number),
    })), deps);
    await client.quit();
    return summary;
  } finally {
    client.close();
  }
}

async function pollImap(server: FetchServer, account: FetchAccount, deps: PollDeps): Promise<PollSummary> {
  const address = serverAddress(server, deps.timeoutMs);
  const client = new ImapFlow({
    host: server.host,
    port: server.port,
    secure: server.tls === 'implicit',
    doSTARTTLS: server.tls === 'starttls' ? true : server.tls === 'none' ? false : undefined,
    auth: { user: account.user, pass: account.password },
    tls: { rejectUnauthorized: server.verifyCertificate, servername: server.host, ...(address.ca ? { ca: address.ca } : {}) },
    logger: false,
    connectionTimeout: deps.timeoutMs,
    greetingTimeout: deps.timeoutMs,
    socketTimeout: deps.timeoutMs * 5,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const lock = await client.getMailboxLock(account.folder);
    try {
      const mailbox = client.mailbox;
      const uidValidity = mailbox ? String(mailbox.uidValidity) : '0';
      const uids = (await client.search({ all: true }, { uid: true })) || [];
      return await drain(accountKey(server, account), account, uids.map((uid) => ({
        uid: `${uidValidity}:${uid}`,
        download: async (path) => {
          const download = await client.download(String(uid), undefined, { uid: true });
          if (!download.content) throw new Error(`message UID ${uid} vanished from ${account.folder}`);
          await pipeline(download.content, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
        },
        remove: async () => {
          await client.messageDelete(String(uid), { uid: true });
        },
      })), deps);
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Turns a library's error into words an admin can act on. */
export function explainFailure(err: unknown, server: FetchServer): string {
  const error = err as Error & { authenticationFailed?: boolean; responseText?: string; stage?: string; code?: string };
  if (err instanceof InjectError) return err.message;
  const said = error.responseText ?? error.message;
  if (error.authenticationFailed || error.stage === 'login') return `login refused (${said}); check the user and password in the accounts file`;
  if (error.stage === 'tls' || /certificate|self.signed|SSL|TLS/i.test(said)) return `TLS failed (${said}); check tls, caFile or verifyCertificate for ${server.host}`;
  if (error.code === 'ECONNREFUSED' || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|cannot connect/i.test(said)) return `server unreachable (${said})`;
  return said;
}

export function pollAccount(server: FetchServer, account: FetchAccount, deps: PollDeps): Promise<PollSummary> {
  return server.protocol === 'pop3' ? pollPop3(server, account, deps) : pollImap(server, account, deps);
}
