// The "organisation's real mail server" in tests: an SMTP server that keeps what it receives.
import { SMTPServer } from 'smtp-server';
import { freePort, waitFor } from './net.js';

export interface SunkMessage {
  from: string;
  to: string[];
  raw: string;
}

export interface Sink {
  port: number;
  messages: SunkMessage[];
  /** Waits until a message matching `match` arrives. */
  waitFor(match: (m: SunkMessage) => boolean, timeoutMs?: number): Promise<SunkMessage>;
  /** Recipients to refuse at RCPT with the given code. */
  refuse: Map<string, number>;
  stop(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const port = await freePort();
  const messages: SunkMessage[] = [];
  const refuse = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    // No PTR lookup of the loopback client: tests make no DNS queries.
    disableReverseLookup: true,
    onRcptTo(address, _session, callback) {
      const code = refuse.get(address.address.toLowerCase());
      if (code) return callback(Object.assign(new Error(`${code === 550 ? '5.1.1 no such user' : '4.2.0 try later'}`), { responseCode: code }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    messages,
    refuse,
    waitFor: (match, timeoutMs = 60_000) => waitFor('a message at the sink', () => messages.find(match), timeoutMs, 100),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
