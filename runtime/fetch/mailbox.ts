// One open session with a remote mailbox, the same shape for POP3 and IMAP, so the per-message
// logic (drain.ts) is written once.

/** A message as listed when the session opened. */
export interface RemoteMessage {
  uid: string;
}

export interface MailboxSession {
  /** Every message on the server, in server order. */
  readonly messages: RemoteMessage[];
  /** False once the connection dropped: open a new session to go on. */
  readonly usable: boolean;
  /** Streams the message into a new file at `path` (mode 0600). */
  download(message: RemoteMessage, path: string): Promise<void>;
  remove(message: RemoteMessage): Promise<void>;
  /** Ends the session; returns how many removals took effect (POP3 commits them only at QUIT). */
  close(): Promise<number>;
}

export type OpenMailbox = () => Promise<MailboxSession>;

/** The connection to the mail server went away in the middle of something. */
export class ConnectionLost extends Error {
  override name = 'ConnectionLost';
}
