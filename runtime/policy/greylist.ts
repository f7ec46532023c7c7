// The greylisting decision for one RCPT: spared (mynetworks, an auto-allowed client network, a
// triplet that already retried, an allow-listed sender, a sender whose SPF passes for the client),
// or asked to come back later with 450 4.7.1. Real mail servers retry; most spam robots do not.
import { isIP } from 'node:net';
import type { TripletMemory } from './greylist-state.js';
import { StateDown } from './state-outage.js';
import type { PolicyRequest } from './protocol.js';

export interface GreylistSettings {
  delaySeconds: number;
  autoAllowAfter: number;
  inside: (address: string) => boolean;
  allowListed: (recipient: string, sender: string) => Promise<boolean>;
  spfPasses: (request: { clientAddress: string; helo: string; sender: string }) => Promise<boolean>;
}

export interface GreylistAnswer {
  action: string;
  /** For the log: why it was let through, or greylisted. */
  why: string;
}

/** The first four groups of an IPv6 address, "::" expanded (an embedded IPv4 tail counts as two groups). */
function ipv6Prefix(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const groupsOf = (part: string) => (part ? part.split(':') : []);
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups =
    tail === undefined ? groupsOf(head) : [...groupsOf(head), ...new Array(8 - width(groupsOf(head)) - width(groupsOf(tail))).fill('0'), ...groupsOf(tail)];
  return groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16));
}

/** The client's network as greylisting sees it (/24, /64): big senders retry from neighbouring addresses. */
export function clientNetwork(address: string): string {
  if (isIP(address) === 4) return `${address.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIP(address) === 6) return `${ipv6Prefix(address).join(':')}::/64`;
  return address;
}

const DUNNO = 'DUNNO';
/** The why of a triplet's first retry after its delay: counted as passed for the console's chart. */
export const FIRST_PASS = 'retried after the delay';

/**
 * The answer for one request. With its memory down (the shared database unreachable) the mail is
 * let on ungreylisted rather than deferred, as Postfix would by default (451 4.3.5) were we to fail:
 * greylisting only delays junk, the content filter still scans what comes in, and a database outage
 * must not hold every sender's mail for as long as it lasts.
 */
export async function greylist(request: PolicyRequest, memory: TripletMemory, settings: GreylistSettings, nowMs = Date.now()): Promise<GreylistAnswer> {
  try {
    return await decide(request, memory, settings, nowMs);
  } catch (err) {
    if (err instanceof StateDown) return { action: DUNNO, why: `greylisting skipped: ${err.message}` };
    throw err;
  }
}

async function decide(request: PolicyRequest, memory: TripletMemory, settings: GreylistSettings, nowMs: number): Promise<GreylistAnswer> {
  if (request.request !== 'smtpd_access_policy' || (request.protocol_state ?? 'RCPT') !== 'RCPT') return { action: DUNNO, why: 'not a recipient check' };
  const clientAddress = request.client_address ?? '';
  const sender = (request.sender ?? '').toLowerCase();
  const recipient = (request.recipient ?? '').toLowerCase();
  if (settings.inside(clientAddress)) return { action: DUNNO, why: 'allowed network' };
  const network = clientNetwork(clientAddress);
  if (await memory.clientAllowed(network, settings.autoAllowAfter))
    return { action: DUNNO, why: `client network ${network} retried ${settings.autoAllowAfter} times before` };
  if (sender && (await settings.allowListed(recipient, sender))) return { action: DUNNO, why: 'sender on an allow list' };
  if (sender && (await settings.spfPasses({ clientAddress, helo: request.helo_name ?? '', sender }))) return { action: DUNNO, why: 'SPF pass for the client' };
  const seen = await memory.attempt({ network, sender, recipient }, settings.delaySeconds, nowMs);
  if (seen.kind === 'passed') return { action: DUNNO, why: seen.firstPass ? FIRST_PASS : 'retried before' };
  const wait = seen.kind === 'new' ? settings.delaySeconds : seen.secondsLeft;
  return {
    action: `450 4.7.1 Greylisted: first mail from ${network} for <${recipient}>, please try again in ${wait} seconds`,
    why: seen.kind === 'new' ? 'new triplet' : `retried too early (${wait} s left)`,
  };
}
