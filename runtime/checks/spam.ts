// The spam check: spamd over the SPAMC protocol (SYMBOLS), message streamed from the spool. Our
// spam level decides, not spamd's required_score, so the wizard's answer is the one in force.
import { createConnection } from 'node:net';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { checkResult, type CheckResult } from './result.js';

export interface SpamdAddress {
  host: string;
  port: number;
  timeoutSeconds: number;
}

export interface SpamdReply {
  score: number;
  tests: string[];
}

export function parseSpamdReply(reply: string): SpamdReply {
  const [head = '', body = ''] = reply.split(/\r?\n\r?\n/, 2);
  const status = /^SPAMD\/[\d.]+ (\d+) (.*)$/m.exec(head);
  if (!status) throw new Error(`spamd answered something that is not SPAMD: ${JSON.stringify(head.slice(0, 80))}`);
  if (status[1] !== '0') throw new Error(`spamd reported error ${status[1]} ${status[2]}`);
  const spam = /^Spam: \w+ ; (-?[\d.]+) \/ (-?[\d.]+)/m.exec(head);
  if (!spam) throw new Error('spamd reply had no Spam: line');
  const tests = body.trim() === '' ? [] : body.trim().split(',').map((t) => t.trim()).filter(Boolean);
  return { score: Number(spam[1]), tests };
}

export function askSpamd(address: SpamdAddress, path: string, size: number): Promise<SpamdReply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: address.host, port: address.port });
    const chunks: Buffer[] = [];
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(address.timeoutSeconds * 1000, () => fail(new Error(`spamd at ${address.host}:${address.port} did not answer within ${address.timeoutSeconds}s`)));
    socket.on('error', (err) => fail(new Error(`spamd at ${address.host}:${address.port} unreachable: ${err.message}`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      if (settled) return;
      settled = true;
      socket.destroy();
      try {
        resolve(parseSpamdReply(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err as Error);
      }
    });
    socket.once('connect', () => {
      socket.write(`SYMBOLS SPAMC/1.5\r\nContent-length: ${size}\r\n\r\n`);
      pipeline(createReadStream(path), socket, { end: false })
        .then(() => socket.end())
        .catch((err: Error) => fail(new Error(`sending to spamd failed: ${err.message}`)));
    });
  });
}

export async function checkSpam(address: SpamdAddress, spoolPath: string, size: number, policy: { spamLevel: number; saMaxBodySize: number }): Promise<CheckResult> {
  if (size > policy.saMaxBodySize) return checkResult('spam', 'skip', `larger than ${policy.saMaxBodySize} bytes, not scanned for spam`);
  try {
    const { score, tests } = await askSpamd(address, spoolPath, size);
    const verdict = score >= policy.spamLevel ? 'fail' : 'pass';
    return checkResult('spam', verdict, `score=${score} required=${policy.spamLevel}`, { score, tests });
  } catch (err) {
    return checkResult('spam', 'error', (err as Error).message);
  }
}
