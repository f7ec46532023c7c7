// A POP3 mailbox session: UIDL at the start, RETR streamed to a file, DELE committed by QUIT.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Pop3Client, type MailServerAddress } from './pop3.js';
import { ConnectionLost, type MailboxSession, type RemoteMessage } from './mailbox.js';

interface Pop3Message extends RemoteMessage {
  number: number;
}

export async function openPop3(address: MailServerAddress, user: string, password: string): Promise<MailboxSession> {
  const client = await Pop3Client.connect(address);
  let messages: Pop3Message[];
  try {
    await client.login(user, password);
    messages = await client.uidl();
  } catch (err) {
    client.close();
    throw err;
  }
  let removed = 0;
  let closed = false;
  // A dropped connection shows as a failed command; say which it was.
  const lostOr = (err: unknown, what: string): Error =>
    client.usable ? (err as Error) : new ConnectionLost(`connection to ${address.host} lost while ${what}: ${(err as Error).message}`);
  return {
    messages,
    get usable() {
      return client.usable;
    },
    async download(message, path) {
      const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
      try {
        await once(out, 'open');
        await client.retrieve((message as Pop3Message).number, out);
      } catch (err) {
        out.destroy();
        throw lostOr(err, `fetching message ${message.uid}`);
      }
      out.end();
      await once(out, 'close');
    },
    async remove(message) {
      try {
        await client.delete((message as Pop3Message).number);
      } catch (err) {
        throw lostOr(err, `deleting message ${message.uid}`);
      }
      removed += 1;
    },
    async close() {
      if (closed) return 0;
      closed = true;
      // Without a QUIT answered +OK the server rolls every DELE of this session back.
      const committed = client.usable && (await client.quit());
      client.close();
      return committed ? removed : 0;
    },
  };
}
