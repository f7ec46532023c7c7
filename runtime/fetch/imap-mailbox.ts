// An IMAP mailbox session (imapflow): one folder locked, messages named UIDVALIDITY:UID, each
// delete expunged at once (UID EXPUNGE), so nothing waits for the logout.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ImapFlow } from 'imapflow';
import type { MailServerAddress } from './pop3.js';
import { ConnectionLost, type MailboxSession, type RemoteMessage } from './mailbox.js';

interface ImapMessage extends RemoteMessage {
  imapUid: number;
}

export async function openImap(address: MailServerAddress, user: string, password: string, folder: string): Promise<MailboxSession> {
  const client = new ImapFlow({
    host: address.host,
    port: address.port,
    secure: address.tls === 'implicit',
    doSTARTTLS: address.tls === 'starttls' ? true : address.tls === 'none' ? false : undefined,
    auth: { user, pass: password },
    // No servername: imapflow sends SNI for host names and leaves it out for IP addresses (DEP0123).
    tls: { rejectUnauthorized: address.verifyCertificate, ...(address.ca ? { ca: address.ca } : {}) },
    logger: false,
    connectionTimeout: address.timeoutMs,
    greetingTimeout: address.timeoutMs,
    socketTimeout: address.timeoutMs * 5,
  });
  let lostReason = '';
  client.on('error', (err: Error) => (lostReason ||= err.message));
  client.on('close', () => (lostReason ||= 'the server closed the connection'));
  const lost = (what: string) => new ConnectionLost(`connection to ${address.host} lost while ${what}${lostReason ? `: ${lostReason}` : ''}`);
  let removed = 0;
  let closed = false;
  await client.connect();
  let lock: Awaited<ReturnType<ImapFlow['getMailboxLock']>>;
  let messages: ImapMessage[];
  try {
    lock = await client.getMailboxLock(folder);
    const uidValidity = client.mailbox ? String(client.mailbox.uidValidity) : '0';
    const uids = (await client.search({ all: true }, { uid: true })) || [];
    messages = uids.map((imapUid) => ({ uid: `${uidValidity}:${imapUid}`, imapUid }));
  } catch (err) {
    client.close();
    throw err;
  }
  return {
    messages,
    get usable() {
      return client.usable;
    },
    async download(message, path) {
      const { imapUid } = message as ImapMessage;
      let download;
      try {
        download = await client.download(String(imapUid), undefined, { uid: true });
      } catch (err) {
        if (!client.usable) throw lost(`fetching UID ${imapUid}`);
        throw err;
      }
      // imapflow answers "nothing" both for a message that is gone and for a dropped connection.
      if (!download.content) throw client.usable ? new Error(`message UID ${imapUid} is no longer in ${folder}`) : lost(`fetching UID ${imapUid}`);
      try {
        await pipeline(download.content, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
      } catch (err) {
        if (!client.usable) throw lost(`fetching UID ${imapUid}`);
        throw err;
      }
    },
    async remove(message) {
      const { imapUid } = message as ImapMessage;
      const done = await client.messageDelete(String(imapUid), { uid: true }).catch((err: Error) => {
        if (!client.usable) throw lost(`deleting UID ${imapUid}`);
        throw err;
      });
      if (!done && !client.usable) throw lost(`deleting UID ${imapUid}`);
      removed += 1;
    },
    async close() {
      if (closed) return 0;
      closed = true;
      lock.release();
      await client.logout().catch(() => client.close());
      return removed;
    },
  };
}
