// The "organisation's real mail server" of `mailfilter start` and the tests: an SMTP server that
// keeps what it receives, in memory and, when given a folder, one file per message.
import { mkdirSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { freePort, waitFor } from './net.js';
import type { Server } from './servers.js';

export interface SunkMessage {
  from: string;
  to: string[];
  raw: string;
  /** The file it was kept in, when the sink keeps files. */
  file?: string;
}

export interface Sink extends Server {
  port: number;
  messages: SunkMessage[];
  /** Waits until a message matching `match` arrives. */
  waitFor(match: (m: SunkMessage) => boolean, timeoutMs?: number): Promise<SunkMessage>;
  /** Recipients to refuse at RCPT with the given code. */
  refuse: Map<string, number>;
  /** Recipients whose RCPT is answered only after this many milliseconds (a slow server). */
  slowRcpt: Map<string, number>;
}

export async function startSink(options: { port?: number; keepDir?: string } = {}): Promise<Sink> {
  const port = options.port ?? (await freePort());
  if (options.keepDir) mkdirSync(options.keepDir, { recursive: true });
  const messages: SunkMessage[] = [];
  const refuse = new Map<string, number>();
  const slowRcpt = new Map<string, number>();
  let count = 0;
  const keep = async (raw: Buffer): Promise<string | undefined> => {
    if (!options.keepDir) return undefined;
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${++count}.eml`;
    const file = join(options.keepDir, name);
    // Whole files only: a reader never sees half a message.
    await writeFile(`${file}.tmp`, raw);
    await rename(`${file}.tmp`, file);
    return file;
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    // No PTR lookup of the loopback client: no DNS queries from the sink.
    disableReverseLookup: true,
    onRcptTo(address, _session, callback) {
      const recipient = address.address.toLowerCase();
      const answer = () => {
        const code = refuse.get(recipient);
        if (code) return callback(Object.assign(new Error(`${code === 550 ? '5.1.1 no such user' : '4.2.0 try later'}`), { responseCode: code }));
        callback();
      };
      const delayMs = slowRcpt.get(recipient);
      if (delayMs) setTimeout(answer, delayMs);
      else answer();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        keep(raw).then(
          (file) => {
            messages.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw: raw.toString('utf8'),
              ...(file ? { file } : {}),
            });
            callback();
          },
          (err: Error) => callback(Object.assign(new Error(`4.3.0 cannot keep the message: ${err.message}`), { responseCode: 451 })),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return {
    name: `mail sink (:${port})`,
    port,
    messages,
    refuse,
    slowRcpt,
    waitFor: (match, timeoutMs = 60_000) => waitFor('a message at the sink', () => messages.find(match), timeoutMs, 100),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
