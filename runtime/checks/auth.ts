// Sender authentication: SPF for the client Postfix saw (XFORWARD), DKIM signatures, DMARC for the
// From: domain and the ARC chain. This file only gathers what they said; what it means for the
// message is judged in auth-judge.ts. DMARC and ARC are mailauth's; DKIM (auth-dkim-verify.ts,
// which parses a key record once) and SPF (spf-evaluate.ts) are ours, except on a message carrying
// an ARC chain, which mailauth checks whole: its ARC verdict needs its own DKIM pass over the message.
import { createReadStream } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { authenticate, dmarc as checkDmarc } from 'mailauth';
import { dnsCache, type DnsAnswer, type DnsCacheOptions, type DnsResolve } from './auth-dns-cache.js';

export type { DnsResolve };
import { fieldName, keyParser, verifyDkim, type ParsedKey } from './auth-dkim-verify.js';
import { spfCache, type SpfOutcome, type SpfQuestion } from './auth-spf-cache.js';
import { evaluateSpf } from './spf-evaluate.js';
import type { MessageHead } from '../mail/message-head.js';

export interface AuthEnvelope {
  clientAddress: string;
  heloName: string;
  mailFrom: string;
}

export interface AuthFacts {
  spf: { result: string; domain: string };
  dkim: Array<{ domain: string; selector: string; result: string; comment: string }>;
  /** null when the message has no single From: address to check. */
  dmarc: { result: string; domain: string; policy: string } | null;
  /** null when the message carries no ARC chain. */
  arc: { result: string; sealer: string; earlier: { spf: string; dmarc: string; dkim: string[] } } | null;
  /** The From: address's domain ('' when there is not exactly one). */
  fromDomain: string;
  /** The methods' rows for Authentication-Results (RFC 8601), without the authserv-id. */
  rows: string[];
}

/** How long and how many answers the auth resolver keeps in process (auth-dns-cache.ts). */
export const DNS_CACHE = { maxEntries: 2000, maxAgeSeconds: 30 };

/**
 * A resolver asking `server` (blank: the system's resolvers), each query bounded by `timeoutSeconds`,
 * its answers kept a short while in process (auth-dns-cache.ts).
 */
export function authResolver(server: string, timeoutSeconds: number, cache: DnsCacheOptions | null = DNS_CACHE): DnsResolve {
  const resolver = new Resolver({ timeout: timeoutSeconds * 1000, tries: 2 });
  if (server) resolver.setServers([server]);
  const lookup = async (name: string, rrtype: string): Promise<DnsAnswer> => {
    // Node tells the TTL of addresses only.
    if (rrtype === 'A' || rrtype === 'AAAA') {
      const found = await (rrtype === 'A' ? resolver.resolve4(name, { ttl: true }) : resolver.resolve6(name, { ttl: true }));
      return { records: found.map((r) => r.address), ttl: Math.min(...found.map((r) => r.ttl)) };
    }
    return { records: (await resolver.resolve(name, rrtype)) as string[][] | string[] };
  };
  if (!cache) return async (name, rrtype) => (await lookup(name, rrtype)).records;
  return dnsCache(lookup, cache);
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();
const oneRow = (info: string) => info.replace(/\r?\n[ \t]*/g, ' ').trim();

/** What the auth check keeps between messages: parsed DKIM keys by record text, SPF results for a while. */
export interface AuthMemory {
  keys: (text: string) => ParsedKey;
  spf: (question: SpfQuestion) => Promise<SpfOutcome>;
}

export interface AuthOptions {
  authservId: string;
  resolve: DnsResolve;
  /** Without it nothing is kept between messages. */
  memory?: AuthMemory;
}

/** The memory for `resolve`'s answers: SPF results live as long as DNS_CACHE keeps an answer. */
export function authMemory(authservId: string, resolve: DnsResolve): AuthMemory {
  return {
    keys: keyParser(),
    spf: spfCache((q) => evaluateSpf(q, { receiver: authservId, resolve }), DNS_CACHE),
  };
}

/** The message as the filter holds it: its spool file, its parsed head, and its bytes when small. */
export interface AuthMessage {
  spoolPath: string;
  head?: MessageHead;
  bytes?: Buffer | null;
}

const ARC_FIELDS = new Set(['arc-seal', 'arc-message-signature', 'arc-authentication-results']);

export async function gatherAuth(message: AuthMessage, envelope: AuthEnvelope, options: AuthOptions): Promise<AuthFacts> {
  const { head } = message;
  if (head && head.complete && !head.fields.some((f) => ARC_FIELDS.has(fieldName(f)))) return gatherWithoutArc({ ...message, head }, envelope, options);
  return gatherWithMailauth(message.spoolPath, envelope, options);
}

/** The From: addresses, as DMARC counts them: one is checked, none or several are not. */
function fromAddresses(head: MessageHead): string[] {
  const addresses: string[] = [];
  for (const field of head.fields.filter((f) => fieldName(f) === 'from')) {
    const raw = field.raw.toString('utf8');
    for (const entry of addressparser(raw.slice(raw.indexOf(':') + 1).trim())) if ('address' in entry && entry.address) addresses.push(entry.address);
  }
  return addresses;
}

/** The client's name for SPF's HELO identity: an address literal in brackets, as mailauth names it. */
const heloOf = (envelope: AuthEnvelope) => {
  const helo = envelope.heloName || envelope.clientAddress;
  return isIP(helo) ? `[${helo}]` : helo;
};

async function gatherWithoutArc(message: AuthMessage & { head: MessageHead }, envelope: AuthEnvelope, options: AuthOptions): Promise<AuthFacts> {
  const { head, bytes, spoolPath } = message;
  const memory = options.memory ?? authMemory(options.authservId, options.resolve);
  const body = bytes ? [bytes.subarray(head.bodyOffset)] : createReadStream(spoolPath, { start: head.bodyOffset });
  const question = { sender: envelope.mailFrom, ip: envelope.clientAddress, helo: heloOf(envelope) };
  const [dkim, spfResult] = await Promise.all([verifyDkim(head.fields, body, { resolve: options.resolve, keys: memory.keys }), memory.spf(question)]);
  const headerFrom = fromAddresses(head);
  const dmarcResult =
    headerFrom.length === 1
      ? await checkDmarc({
          headerFrom,
          spfDomains: spfResult.status.result === 'pass' && spfResult.domain ? [spfResult.domain] : [],
          dkimDomains: dkim.outcomes.filter((o) => o.result === 'pass').map((o) => ({ domain: o.domain })),
          // No chain: what mailauth's ARC check says of a message without one.
          arcResult: { status: { result: 'none' } } as Parameters<typeof checkDmarc>[0]['arcResult'],
          resolver: options.resolve,
        })
      : false;
  return {
    spf: { result: spfResult.status.result, domain: spfResult.domain },
    dkim: dkim.outcomes.filter((o) => o.domain).map((o) => ({ domain: o.domain, selector: o.selector, result: o.result, comment: o.comment })),
    dmarc: dmarcResult ? { result: dmarcResult.status.result, domain: dmarcResult.domain, policy: dmarcResult.policy ?? '' } : null,
    arc: null,
    fromDomain: headerFrom.length === 1 ? domainOf(headerFrom[0]!) : '',
    rows: [...dkim.rows, spfResult.info, ...(dmarcResult && dmarcResult.info ? [dmarcResult.info] : [])].filter(Boolean).map(oneRow),
  };
}

async function gatherWithMailauth(spoolPath: string, envelope: AuthEnvelope, options: AuthOptions): Promise<AuthFacts> {
  const result = await authenticate(createReadStream(spoolPath), {
    ip: envelope.clientAddress,
    helo: envelope.heloName || undefined,
    sender: envelope.mailFrom,
    mta: options.authservId,
    resolver: options.resolve,
    disableBimi: true,
    // Return-Path and Received: are the sender's words; the client is what Postfix saw.
    trustReceived: false,
  });
  const { spf, dkim, dmarc, arc } = result;
  const signatures = (dkim.results ?? []).filter((r) => r.signingDomain);
  const headerFrom = dkim.headerFrom ?? [];
  const earlier = arc
    ? ((arc.authenticationResults ?? {}) as { spf?: { result?: string }; dmarc?: { result?: string }; dkim?: Array<{ result?: string }> })
    : {};
  const rows = [
    ...(dkim.results ?? []).map((r) => r.info),
    ...(spf ? [spf.info] : []),
    ...(arc && arc.info ? [arc.info] : []),
    ...(dmarc && dmarc.info ? [dmarc.info] : []),
  ]
    .filter(Boolean)
    .map(oneRow);
  return {
    spf: { result: spf ? spf.status.result : 'none', domain: spf ? spf.domain : domainOf(envelope.mailFrom) },
    dkim: signatures.map((r) => ({
      domain: r.signingDomain.toLowerCase(),
      selector: r.selector ?? '',
      result: r.status.result,
      comment: r.status.comment ?? '',
    })),
    dmarc: dmarc ? { result: dmarc.status.result, domain: dmarc.domain, policy: dmarc.policy ?? '' } : null,
    arc:
      arc && arc.status.result !== 'none'
        ? {
            result: arc.status.result,
            sealer: arc.signature ? arc.signature.signingDomain.toLowerCase() : '',
            earlier: { spf: earlier.spf?.result ?? '', dmarc: earlier.dmarc?.result ?? '', dkim: (earlier.dkim ?? []).map((d) => d.result ?? '') },
          }
        : null,
    fromDomain: headerFrom.length === 1 ? domainOf(headerFrom[0]!) : '',
    rows,
  };
}

/**
 * The envelope sender's SPF alone, as auth-judge.ts rates it ('pass', 'fail' for an outright fail,
 * else 'unknown'): for mail from inside the allowed networks, which is not checked, when a bounce
 * notice asks whether its sender is authenticated. A DNS failure is 'unknown'.
 */
export async function spfSenderAuth(envelope: AuthEnvelope, options: { authservId: string; resolve: DnsResolve }): Promise<'pass' | 'fail' | 'unknown'> {
  if (!envelope.mailFrom.includes('@')) return 'unknown';
  const { outcome } = await evaluateSpf(
    { sender: envelope.mailFrom, ip: envelope.clientAddress, helo: envelope.heloName },
    { receiver: options.authservId, resolve: options.resolve },
  );
  const verdict = outcome.status.result;
  return verdict === 'pass' ? 'pass' : verdict === 'fail' ? 'fail' : 'unknown';
}
