// Sender authentication with mailauth: SPF for the client Postfix saw (XFORWARD), DKIM signatures,
// DMARC for the From: domain and the ARC chain. This file only gathers what they said; what it
// means for the message is judged in auth-judge.ts.
import { createReadStream } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { authenticate, spf } from 'mailauth';
import { dnsCache, type DnsAnswer, type DnsCacheOptions } from './auth-dns-cache.js';

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

export type DnsResolve = (name: string, rrtype: string) => Promise<string[][] | string[]>;

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

export async function gatherAuth(spoolPath: string, envelope: AuthEnvelope, options: { authservId: string; resolve: DnsResolve }): Promise<AuthFacts> {
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
  try {
    const result = await spf({
      sender: envelope.mailFrom,
      ip: envelope.clientAddress,
      helo: envelope.heloName || undefined,
      mta: options.authservId,
      resolver: options.resolve,
    });
    const verdict = result.status.result;
    return verdict === 'pass' ? 'pass' : verdict === 'fail' ? 'fail' : 'unknown';
  } catch {
    return 'unknown';
  }
}
