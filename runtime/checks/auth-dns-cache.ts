// A small in-process cache of DNS answers for the auth check: the same sender's SPF, DKIM key and
// DMARC records are asked for message after message, and each question to the local resolver costs
// the filter more CPU than the answer is worth (bench/auth.ts). Answers live for their TTL where
// Node's resolver tells it (A, AAAA), never longer than maxAgeSeconds: for TXT and MX it does not,
// so maxAgeSeconds is short and the local resolver (which honours TTLs) stays the real cache.
// Questions for the same name asked at once share one query. Temporary failures are not kept.
import { BoundedMap } from './bounded-map.js';

/** A DNS question as mailauth and our DKIM verifier ask it: records by name and type. */
export type DnsResolve = (name: string, rrtype: string) => Promise<string[][] | string[]>;

export interface DnsAnswer {
  records: string[][] | string[];
  /** Seconds, when the resolver reports it. */
  ttl?: number;
}

export interface DnsCacheOptions {
  maxEntries: number;
  maxAgeSeconds: number;
  now?: () => number;
}

/** "No such name" and "no such record": as final as an answer (RFC 2308), kept like one. */
const FINAL_ERRORS = new Set(['ENOTFOUND', 'ENODATA']);

interface Entry {
  expires: number;
  answer: Promise<string[][] | string[]>;
}

export function dnsCache(
  lookup: (name: string, rrtype: string) => Promise<DnsAnswer>,
  options: DnsCacheOptions,
): (name: string, rrtype: string) => Promise<string[][] | string[]> {
  const now = options.now ?? Date.now;
  const entries = new BoundedMap<string, Entry>(options.maxEntries);
  const forget = (key: string, entry: Entry) => entries.deleteIf(key, entry);
  // Each caller gets its own copy: the answer is shared, mailauth's code is not ours to trust with it.
  const copy = (records: string[][] | string[]) => records.map((r) => (Array.isArray(r) ? [...r] : r)) as string[][] | string[];
  return (name, rrtype) => {
    const key = `${rrtype.toUpperCase()} ${name.toLowerCase()}`;
    const found = entries.get(key);
    if (found && found.expires > now()) return found.answer.then(copy);
    // Until the query ends, its entry lives as long as the longest answer may: others wait on it.
    const entry: Entry = { expires: now() + options.maxAgeSeconds * 1000, answer: Promise.resolve([]) };
    entry.answer = lookup(name, rrtype).then(
      (answer) => {
        const seconds = Math.min(options.maxAgeSeconds, answer.ttl ?? Infinity);
        if (seconds <= 0) forget(key, entry);
        else entry.expires = now() + seconds * 1000;
        return answer.records;
      },
      (err: NodeJS.ErrnoException) => {
        if (!FINAL_ERRORS.has(err.code ?? '')) forget(key, entry);
        throw err;
      },
    );
    // A failure nobody awaits yet must not be an unhandled rejection.
    entry.answer.catch(() => undefined);
    entries.set(key, entry);
    return entry.answer.then(copy);
  };
}
