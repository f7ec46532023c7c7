// The virus check: the spooled message streamed to clamd with INSTREAM over its socket. clamd
// decodes MIME and opens archives itself. Unreachable or confused clamd is 'error', never 'pass'.
import { createConnection, type Socket } from 'node:net';
import { createReadStream } from 'node:fs';
import { checkResult, type CheckResult } from './result.js';

export interface ClamdAddress {
  socket: string;
  host: string;
  port: number;
  timeoutSeconds: number;
}

function connect(address: ClamdAddress): Socket {
  return address.socket ? createConnection({ path: address.socket }) : createConnection({ host: address.host, port: address.port });
}

function where(address: ClamdAddress): string {
  return address.socket || `${address.host}:${address.port}`;
}

/** Sends `path` to clamd; resolves with clamd's reply line (e.g. "stream: Eicar FOUND"). */
export function clamdInstream(address: ClamdAddress, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(address);
    const replyChunks: Buffer[] = [];
    let settled = false;
    const finish = (err: Error | null, reply?: string) => {
      if (settled) return;
      settled = true;
      file.destroy();
      socket.destroy();
      if (err) reject(err);
      else resolve(reply ?? '');
    };
    const file = createReadStream(path, { highWaterMark: 256 * 1024 });
    socket.setTimeout(address.timeoutSeconds * 1000, () => finish(new Error(`clamd at ${where(address)} did not answer within ${address.timeoutSeconds}s`)));
    socket.on('error', (err) => finish(new Error(`clamd at ${where(address)} unreachable: ${err.message}`)));
    socket.on('data', (chunk: Buffer) => replyChunks.push(chunk));
    // clamd may answer early (size limit) and close; whatever it said is the reply.
    socket.on('close', () => {
      const reply = Buffer.concat(replyChunks).toString('utf8').replace(/\0/g, '').trim();
      if (reply) finish(null, reply);
      else finish(new Error(`clamd at ${where(address)} closed the connection without a verdict`));
    });
    file.on('error', (err) => finish(new Error(`cannot read spooled message: ${err.message}`)));
    socket.once('connect', () => {
      socket.write('zINSTREAM\0');
      file.on('data', (chunk) => {
        const data = chunk as Buffer;
        const size = Buffer.alloc(4);
        size.writeUInt32BE(data.length, 0);
        socket.write(size);
        if (!socket.write(data)) {
          file.pause();
          socket.once('drain', () => file.resume());
        }
      });
      file.on('end', () => socket.write(Buffer.alloc(4)));
    });
  });
}

export function interpretClamdReply(reply: string): CheckResult {
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found) return checkResult('virus', 'fail', found[1]!);
  if (reply === 'stream: OK') return checkResult('virus', 'pass', 'clean');
  return checkResult('virus', 'error', `clamd said: ${reply.slice(0, 200)}`);
}

export async function checkVirus(address: ClamdAddress, spoolPath: string): Promise<CheckResult> {
  try {
    return interpretClamdReply(await clamdInstream(address, spoolPath));
  } catch (err) {
    return checkResult('virus', 'error', (err as Error).message);
  }
}
