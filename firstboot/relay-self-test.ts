// Apply's last step: the running Postfix itself is asked whether it would relay. Over master.cf's
// `relaytest` socket (private, XCLIENT only there) the test claims a client address outside
// mynetworks and tries a recipient in a foreign domain; anything but a 5xx fails apply. No DATA is
// ever sent, so nothing is queued even when Postfix would relay.
import { execFile } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ipv4ToInt } from '../runtime/net/ipv4.js';

const run = promisify(execFile);

/** Documentation addresses (RFC 5737), then public ones: the first outside mynetworks is used. */
const OUTSIDE_CLIENTS = ['192.0.2.1', '198.51.100.1', '203.0.113.1', '8.8.8.8', '1.1.1.1'];
const FOREIGN_DOMAINS = ['example.org', 'example.net', 'example.com', 'relay-test.invalid'];
export const RELAY_TEST_SOCKET = 'private/relaytest';

export class OpenRelayError extends Error {}

interface Reply {
  code: number;
  text: string;
}

/** `a.b.c.d/n` or a bare address; other mynetworks entries (IPv6, tables) cover none of ours. */
function inNetwork(address: string, network: string): boolean {
  const match = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(network);
  if (!match) return false;
  const bits = Number(match[2] ?? 32);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (ipv4ToInt(address) & mask) >>> 0 === (ipv4ToInt(match[1]!) & mask) >>> 0;
}

export function outsideClient(mynetworks: string): string | undefined {
  const networks = mynetworks.split(/[\s,]+/).filter(Boolean);
  return OUTSIDE_CLIENTS.find((client) => !networks.some((network) => inNetwork(client, network)));
}

/** A domain that is neither ours nor below one of ours (relay_domains, mydestination). */
export function foreignDomain(ourDomains: string): string {
  const ours = ourDomains
    .toLowerCase()
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((d) => d.replace(/^\./, ''));
  return FOREIGN_DOMAINS.find((domain) => !ours.some((d) => domain === d || domain.endsWith(`.${d}`)))!;
}

async function postconf(configDir: string, names: string[]): Promise<string[]> {
  const { stdout } = await run('postconf', ['-c', configDir, '-x', '-h', ...names]);
  return stdout.split('\n').slice(0, names.length);
}

/** Postfix may still be starting after its restart: the socket appears when master is up. */
async function connect(path: string, timeoutMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = createConnection({ path });
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      });
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`cannot reach Postfix's relay test socket ${path}: ${(err as Error).message}`);
      await sleep(250);
    }
  }
}

/** One SMTP reply at a time, multi-line replies joined. */
function replyReader(socket: Socket): () => Promise<Reply> {
  let buffer = '';
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    wake?.();
  });
  const stop = (err: Error) => {
    failure ??= err;
    wake?.();
  };
  socket.on('error', stop);
  socket.on('close', () => stop(new Error('Postfix closed the connection')));
  return async () => {
    for (;;) {
      const end = /^\d{3} .*\r?\n/m.exec(buffer);
      if (end) {
        const raw = buffer.slice(0, end.index + end[0].length);
        buffer = buffer.slice(raw.length);
        const lines = raw.trimEnd().split(/\r?\n/);
        return { code: Number(lines.at(-1)!.slice(0, 3)), text: lines.map((l) => l.slice(4)).join('\n') };
      }
      if (failure) throw failure;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
}

export interface RelaySelfTestOptions {
  /** Postfix's config folder: /etc/postfix on the appliance. */
  configDir: string;
  timeoutMs?: number;
}

/**
 * Resolves with one line for apply's progress; rejects with OpenRelayError when Postfix accepted
 * the foreign recipient (or did not refuse it for good), with an Error when the test could not run.
 */
export async function relaySelfTest(options: RelaySelfTestOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const [queueDir, mynetworks, relayDomains, mydestination] = await postconf(options.configDir, [
    'queue_directory',
    'mynetworks',
    'relay_domains',
    'mydestination',
  ]);
  const client = outsideClient(mynetworks!);
  if (!client) return `not run: the allowed networks you confirmed (${mynetworks}) include every address tried; Postfix relays for them all`;
  const recipient = `relay-self-test@${foreignDomain(`${relayDomains} ${mydestination}`)}`;
  const socket = await connect(join(queueDir!, RELAY_TEST_SOCKET), timeoutMs);
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`Postfix did not answer within ${timeoutMs / 1000} s`)));
  const reply = replyReader(socket);
  const say = async (line: string, expected: number, what: string): Promise<Reply> => {
    socket.write(`${line}\r\n`);
    const answer = await reply();
    if (Math.floor(answer.code / 100) !== expected) throw new Error(`${what}: Postfix answered ${answer.code} ${answer.text}`);
    return answer;
  };
  try {
    const greeting = await reply();
    if (greeting.code !== 220) throw new Error(`Postfix's greeting: ${greeting.code} ${greeting.text}`);
    const ehlo = await say('EHLO relay-self-test.invalid', 2, 'EHLO');
    if (!/^XCLIENT\b/im.test(ehlo.text)) throw new Error('the relay test socket does not offer XCLIENT (smtpd_authorized_xclient_hosts in master.cf)');
    // XCLIENT starts a new session as that client: greeting, then EHLO again.
    await say(`XCLIENT ADDR=${client} NAME=[UNAVAILABLE]`, 2, `XCLIENT ADDR=${client}`);
    await say('EHLO relay-self-test.invalid', 2, `EHLO as ${client}`);
    // The null sender: no sender check (DNS) can refuse it before the relay check does.
    await say('MAIL FROM:<>', 2, `MAIL FROM as ${client}`);
    socket.write(`RCPT TO:<${recipient}>\r\n`);
    const answer = await reply();
    const said = `${answer.code} ${answer.text.replace(`<${recipient}>: `, '')}`;
    if (answer.code >= 500) return `${client} to ${recipient}: ${said}`;
    if (answer.code < 400)
      throw new OpenRelayError(`OPEN RELAY: Postfix accepted mail from ${client}, outside the allowed networks, for ${recipient}: ${said}`);
    throw new OpenRelayError(
      `Postfix did not refuse for good mail from ${client}, outside the allowed networks, for ${recipient}: ${said} (a relay attempt must get 5xx)`,
    );
  } finally {
    socket.end('QUIT\r\n');
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}
