// A small SMTP sender for benchmarks that must speak from a chosen loopback address (smtp-source
// cannot bind one): each session keeps its connection for many messages, as a real MTA's
// connection cache does, or opens one per message.
import { createConnection, type Socket } from 'node:net';

interface Reply {
  code: number;
  text: string;
}

/** Reads SMTP replies (multi-line ones whole) from a socket. */
class ReplyReader {
  private buffer = '';
  private lines: string[] = [];
  private waiting: ((reply: Reply) => void) | null = null;
  private failed: Error | null = null;
  private rejectWaiting: ((err: Error) => void) | null = null;

  constructor(socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let at: number;
      while ((at = this.buffer.indexOf('\r\n')) >= 0) {
        const line = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 2);
        this.lines.push(line);
        // The last line of a reply has a space (or nothing) after the code.
        if (line[3] !== '-') this.deliver();
      }
    });
    const fail = (err: Error) => {
      this.failed = err;
      this.rejectWaiting?.(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  private replies: Reply[] = [];

  private deliver(): void {
    const reply = { code: Number(this.lines[0]!.slice(0, 3)), text: this.lines.join('\n') };
    this.lines = [];
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      this.rejectWaiting = null;
      resolve(reply);
    } else this.replies.push(reply);
  }

  next(): Promise<Reply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.rejectWaiting = reject;
    });
  }
}

export interface SendOptions {
  host: string;
  port: number;
  localAddress: string;
  helo: string;
  /** The envelope sender, or one for each message of the session (the message's number). */
  from: string | ((message: number) => string);
  to: string;
  /** The message, with CRLF line ends and no line that is a lone dot. */
  message: string;
  /** XFORWARD attributes sent before each MAIL FROM (e.g. "ADDR=198.51.100.10 HELO=mail.example"): the client Postfix records and hands on. */
  xforward?: string;
}

async function expect(reader: ReplyReader, socket: Socket, command: string | null, code: number): Promise<void> {
  if (command !== null) socket.write(`${command}\r\n`);
  const reply = await reader.next();
  if (reply.code !== code) throw new Error(`${command ?? 'greeting'}: ${reply.text}`);
}

/** One SMTP session that sends `count` messages, then QUITs. */
export async function sendSession(options: SendOptions, count: number): Promise<void> {
  const socket = createConnection({ host: options.host, port: options.port, localAddress: options.localAddress });
  socket.setNoDelay(true);
  const reader = new ReplyReader(socket);
  try {
    await expect(reader, socket, null, 220);
    await expect(reader, socket, `EHLO ${options.helo}`, 250);
    for (let i = 0; i < count; i++) {
      // Postfix forgets XFORWARD's attributes at the end of each mail transaction.
      if (options.xforward) await expect(reader, socket, `XFORWARD ${options.xforward}`, 250);
      await expect(reader, socket, `MAIL FROM:<${typeof options.from === 'string' ? options.from : options.from(i)}>`, 250);
      await expect(reader, socket, `RCPT TO:<${options.to}>`, 250);
      await expect(reader, socket, 'DATA', 354);
      await expect(reader, socket, `${options.message}.`, 250);
    }
    await expect(reader, socket, 'QUIT', 221);
  } finally {
    socket.destroy();
  }
}
