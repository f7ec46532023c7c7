// A small POP3 client (RFC 1939, STLS from RFC 2595) that streams RETR to a file. The poplib
// package hands back each message whole as a string, which is neither streamed nor 8-bit clean.
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export type TlsMode = 'implicit' | 'starttls' | 'none';

export interface MailServerAddress {
  host: string;
  port: number;
  tls: TlsMode;
  verifyCertificate: boolean;
  ca?: Buffer;
  timeoutMs: number;
}

/** Waits for a full sink to take more, or to fail (its 'error' is seen by the caller). */
async function drainedOrClosed(sink: Writable): Promise<void> {
  const waiting = new AbortController();
  try {
    await Promise.race([once(sink, 'drain', { signal: waiting.signal }), once(sink, 'close', { signal: waiting.signal })]);
  } catch {
    // The sink's error: the caller's listener has it.
  } finally {
    waiting.abort();
  }
}

export class Pop3Error extends Error {
  constructor(
    message: string,
    readonly stage: 'connect' | 'tls' | 'login' | 'command',
  ) {
    super(message);
    this.name = 'Pop3Error';
  }
}

/** Longest status or UIDL line; message lines have no limit, they are streamed in pieces. */
const MAX_LINE = 64 * 1024;

export class Pop3Client {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  private ended: Error | null = null;

  private constructor(
    private socket: Socket | TLSSocket,
    private readonly address: MailServerAddress,
  ) {
    this.attach(socket);
  }

  private attach(socket: Socket | TLSSocket): void {
    this.socket = socket;
    socket.setTimeout(this.address.timeoutMs, () => socket.destroy(new Error(`no answer from ${this.address.host} within ${this.address.timeoutMs / 1000}s`)));
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      // Do not let a fast server fill memory while the disk is slow.
      if (this.buffer.length > 4 * 1024 * 1024) socket.pause();
      this.wake();
    });
    socket.on('error', (err) => {
      this.ended = err;
      this.wake();
    });
    socket.on('close', () => {
      this.ended ??= new Error(`${this.address.host} closed the connection`);
      this.wake();
    });
  }

  private wake(): void {
    const waiter = this.waiting;
    this.waiting = null;
    waiter?.();
  }

  /** The next line, or with `pieceSize`, at most that many bytes of a longer line (`complete` false). */
  private async readLine(pieceSize?: number): Promise<{ bytes: Buffer; complete: boolean }> {
    for (;;) {
      const newline = this.buffer.indexOf(0x0a);
      const take = newline !== -1 ? newline + 1 : pieceSize !== undefined && this.buffer.length >= pieceSize ? this.buffer.length : 0;
      if (take > 0) {
        const bytes = this.buffer.subarray(0, take);
        this.buffer = this.buffer.subarray(take);
        if (this.buffer.length < 1024 * 1024) this.socket.resume();
        return { bytes, complete: newline !== -1 };
      }
      if (pieceSize === undefined && this.buffer.length > MAX_LINE)
        throw new Pop3Error(`${this.address.host} sent a status line longer than ${MAX_LINE} bytes`, 'command');
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  private async status(stage: Pop3Error['stage']): Promise<string> {
    const line = (await this.readLine()).bytes.toString('utf8').trimEnd();
    if (!line.startsWith('+OK')) throw new Pop3Error(line.slice(0, 300) || 'empty answer', stage);
    return line;
  }

  private async command(text: string, stage: Pop3Error['stage'] = 'command'): Promise<string> {
    this.socket.write(`${text}\r\n`);
    return this.status(stage);
  }

  /**
   * Reads a multi-line answer until the final ".", dot-unstuffed. Lines longer than MAX_LINE come
   * in several pieces: a dot only means something at the start of a line.
   */
  private async *lines(): AsyncGenerator<Buffer> {
    let atLineStart = true;
    for (;;) {
      const { bytes, complete } = await this.readLine(MAX_LINE);
      if (atLineStart && bytes[0] === 0x2e) {
        if (complete && bytes.length <= 3 && (bytes[1] === 0x0d || bytes[1] === 0x0a || bytes.length === 1)) return;
        yield bytes.subarray(1);
      } else {
        yield bytes;
      }
      atLineStart = complete;
    }
  }

  static async connect(address: MailServerAddress): Promise<Pop3Client> {
    // An IP address is not a valid SNI name (Node warns, DEP0123); the certificate is checked against it all the same.
    const tlsOptions = {
      ...(isIP(address.host) ? {} : { servername: address.host }),
      rejectUnauthorized: address.verifyCertificate,
      ...(address.ca ? { ca: address.ca } : {}),
    };
    const socket =
      address.tls === 'implicit'
        ? tlsConnect({ host: address.host, port: address.port, ...tlsOptions })
        : tcpConnect({ host: address.host, port: address.port });
    try {
      await Promise.race([once(socket, address.tls === 'implicit' ? 'secureConnect' : 'connect'), once(socket, 'error').then(([err]) => Promise.reject(err))]);
    } catch (err) {
      socket.destroy();
      const message = (err as Error).message;
      throw new Pop3Error(
        `cannot connect to ${address.host}:${address.port}: ${message}`,
        /certificate|self.signed|TLS|SSL/i.test(message) ? 'tls' : 'connect',
      );
    }
    const client = new Pop3Client(socket, address);
    await client.status('connect');
    if (address.tls === 'starttls') await client.startTls(tlsOptions);
    return client;
  }

  private async startTls(options: { servername?: string; rejectUnauthorized: boolean; ca?: Buffer }): Promise<void> {
    await this.command('STLS', 'tls');
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('error');
    plain.removeAllListeners('close');
    const secure = tlsConnect({ socket: plain, host: this.address.host, ...options });
    try {
      await Promise.race([once(secure, 'secureConnect'), once(secure, 'error').then(([err]) => Promise.reject(err))]);
    } catch (err) {
      secure.destroy();
      throw new Pop3Error(`TLS with ${this.address.host} failed: ${(err as Error).message}`, 'tls');
    }
    this.buffer = Buffer.alloc(0);
    this.attach(secure);
  }

  async login(user: string, password: string): Promise<void> {
    if (/[\r\n]/.test(user + password)) throw new Pop3Error('user or password contains a line break', 'login');
    await this.command(`USER ${user}`, 'login');
    await this.command(`PASS ${password}`, 'login');
  }

  /** Message numbers and their unique ids. */
  async uidl(): Promise<Array<{ number: number; uid: string }>> {
    await this.command('UIDL');
    const list: Array<{ number: number; uid: string }> = [];
    for await (const line of this.lines()) {
      const [number, uid] = line.toString('utf8').trim().split(/\s+/);
      if (number && uid) list.push({ number: Number(number), uid });
    }
    return list;
  }

  /**
   * Streams message `number` into `sink` (not ended here); returns its size in bytes. When the sink
   * fails (disk full), the rest of the answer is read and dropped, so the session stays usable.
   */
  async retrieve(number: number, sink: Writable): Promise<number> {
    await this.command(`RETR ${number}`);
    let size = 0;
    let sinkError: Error | null = null;
    const onError = (err: Error) => (sinkError ??= err);
    sink.on('error', onError);
    try {
      for await (const line of this.lines()) {
        if (sinkError) continue;
        size += line.length;
        if (!sink.write(line)) await drainedOrClosed(sink);
      }
    } finally {
      sink.off('error', onError);
    }
    if (sinkError) throw sinkError;
    return size;
  }

  async delete(number: number): Promise<void> {
    await this.command(`DELE ${number}`);
  }

  /** QUIT commits deletions (true when it did); a connection that just drops keeps every message on the server. */
  async quit(): Promise<boolean> {
    const committed = await this.command('QUIT').then(
      () => true,
      () => false,
    );
    this.socket.end();
    return committed;
  }

  /** False once the connection dropped or timed out: a -ERR answer leaves it usable. */
  get usable(): boolean {
    return this.ended === null;
  }

  close(): void {
    this.socket.destroy();
  }
}
