// The spam check: spamd over the SPAMC protocol (SYMBOLS), message streamed from the spool. Our
// spam level decides, not spamd's required_score, so the wizard's answer is the one in force.
import { createConnection } from 'node:net';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { checkResult, type CheckResult } from './result.js';
import { stat } from 'node:fs/promises';

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
  const tests =
    body.trim() === ''
      ? []
      : body
          .trim()
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean);
  return { score: Number(spam[1]), tests };
}

/** spamd took longer than its timeout: the message may be what keeps it busy (see spamTimedOut). */
class SpamdTimeout extends Error {}

/** One SPAMC request with the message streamed from a file; resolves with spamd's whole reply. */
function spamdRequest(address: SpamdAddress, head: string, path: string): Promise<string> {
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
    socket.setTimeout(address.timeoutSeconds * 1000, () =>
      fail(new SpamdTimeout(`spamd at ${address.host}:${address.port} did not answer within ${address.timeoutSeconds}s`)),
    );
    socket.on('error', (err) => fail(new Error(`spamd at ${address.host}:${address.port} unreachable: ${err.message}`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.once('connect', () => {
      socket.write(head);
      pipeline(createReadStream(path), socket, { end: false })
        .then(() => socket.end())
        .catch((err: Error) => fail(new Error(`sending to spamd failed: ${err.message}`)));
    });
  });
}

export async function askSpamd(address: SpamdAddress, path: string, size: number): Promise<SpamdReply> {
  return parseSpamdReply(await spamdRequest(address, `SYMBOLS SPAMC/1.5\r\nContent-length: ${size}\r\n\r\n`, path));
}

/**
 * Teaches spamd's Bayes database that a message is ham or spam (TELL; spamd needs --allow-tell).
 * Returns spamd's own words for what it did, e.g. "DidSet: local".
 */
/** The size is the file's own: a held copy carries headers of ours that the original did not. */
export async function tellSpamd(address: SpamdAddress, path: string, messageClass: 'ham' | 'spam'): Promise<string> {
  const { size } = await stat(path);
  const reply = await spamdRequest(address, `TELL SPAMC/1.5\r\nMessage-class: ${messageClass}\r\nSet: local\r\nContent-length: ${size}\r\n\r\n`, path);
  const status = /^SPAMD\/[\d.]+ (\d+) (.*)$/m.exec(reply);
  if (!status) throw new Error(`spamd answered something that is not SPAMD: ${JSON.stringify(reply.slice(0, 80))}`);
  const [, code = '', words = ''] = status;
  if (code !== '0') throw new Error(`spamd refused to learn (${code} ${words.trim()}); is it started with --allow-tell?`);
  const did = /^(Did(?:Set|Remove): .*)$/m.exec(reply);
  return did?.[1] ? did[1].trim() : 'nothing to change (already learned)';
}

export async function checkSpam(
  address: SpamdAddress,
  spoolPath: string,
  size: number,
  policy: { spamLevel: number; saMaxBodySize: number },
): Promise<CheckResult> {
  if (size > policy.saMaxBodySize) return checkResult('spam', 'skip', `larger than ${policy.saMaxBodySize} bytes, not scanned for spam`);
  try {
    const { score, tests } = await askSpamd(address, spoolPath, size);
    const verdict = score >= policy.spamLevel ? 'fail' : 'pass';
    return checkResult('spam', verdict, `score=${score} required=${policy.spamLevel}`, { score, tests });
  } catch (err) {
    const error = err as Error;
    return checkResult('spam', 'error', error instanceof SpamdTimeout ? `${TIMED_OUT}${error.message}` : error.message);
  }
}

// The words that mark a timed-out check and a given-up one; read only through the two tests below.
const TIMED_OUT = 'timed out: ';
const GIVEN_UP = 'given up: ';

/** A spam check that failed because spamd ran out of time (not because it was down). */
export function spamTimedOut(result: CheckResult): boolean {
  return result.check === 'spam' && result.result === 'error' && result.detail.startsWith(TIMED_OUT);
}

/** After `tries` timeouts on one message: no spam verdict, so the other checks decide (as amavisd-new does). */
export function spamCheckGivenUp(tries: number): CheckResult {
  return checkResult('spam', 'skip', `${GIVEN_UP}spamd timed out on ${tries} ${tries === 1 ? 'try' : 'tries'}, decided without a spam verdict`);
}

export function spamGivenUp(result: CheckResult): boolean {
  return result.check === 'spam' && result.result === 'skip' && result.detail.startsWith(GIVEN_UP);
}
