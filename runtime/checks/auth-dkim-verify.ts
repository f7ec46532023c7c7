// DKIM signature verification (RFC 6376, RFC 8463 for Ed25519, RFC 8301 for the algorithms) of our
// own, for the auth check's common case: mailauth re-parses and re-validates the key record and
// builds a new public key for every message, which cost the filter more CPU than the rest of the
// check (bench/auth.ts). Here a key record's text is parsed once (parsedKeys); the record itself
// still comes from the resolver for every message, so its DNS TTL governs which key is used.
// The body is canonicalised and hashed as it streams. Results use mailauth's words (neutral for a
// body hash mismatch or a missing key, policy for a weak key) so the judge and the rows read the same.
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { HeaderField } from '../mail/message-head.js';
import type { DnsResolve } from './auth-dns-cache.js';
import { commentValue, propValue } from './auth-row.js';
import { BoundedMap } from './bounded-map.js';

export type DkimResult = 'pass' | 'fail' | 'neutral' | 'policy' | 'temperror' | 'permerror';

export interface DkimOutcome {
  domain: string;
  selector: string;
  algorithm: string;
  result: DkimResult;
  /** Why, when it did not pass ('' when there is nothing to say). */
  comment: string;
  /** The Authentication-Results row (RFC 8601), without the authserv-id. */
  info: string;
}

/** RSA keys shorter than this do not count (RFC 8301). */
const MIN_RSA_BITS = 1024;

/** A tag=value list (RFC 6376 3.2); null when it is malformed or names a tag twice. */
export function parseTags(text: string): Map<string, string> | null {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const spec = part.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    if (spec === '') continue;
    const eq = spec.indexOf('=');
    if (eq < 1) return null;
    const name = spec.slice(0, eq).replace(/[ \t\r\n]+$/, '');
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name) || tags.has(name)) return null;
    tags.set(name, spec.slice(eq + 1).replace(/^[ \t\r\n]+/, ''));
  }
  return tags;
}

const noSpace = (value: string) => value.replace(/[ \t\r\n]+/g, '');

/** A field's name as h= names it: lower-case, without white space before the colon. */
export const fieldName = (field: HeaderField) => field.name.replace(/[ \t]+$/, '').toLowerCase();

// ---- key records (RFC 6376 3.6.1) ----

export type ParsedKey = { key: KeyObject; type: 'rsa' | 'ed25519'; strictDomain: boolean } | { problem: string; result: DkimResult; policy?: string };

/** The SubjectPublicKeyInfo prefix of an Ed25519 key, whose record holds the bare 32 bytes (RFC 8463). */
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

export function parseKeyRecord(text: string): ParsedKey {
  const invalid = (problem: string): ParsedKey => ({ problem, result: 'neutral' });
  const tags = parseTags(text);
  if (!tags) return invalid('invalid public key');
  const version = tags.get('v');
  if (version !== undefined && version.trim() !== 'DKIM1') return invalid('unknown key version');
  const hashes = tags.get('h');
  if (hashes !== undefined && !noSpace(hashes).toLowerCase().split(':').includes('sha256')) return invalid('key does not allow sha256');
  const services = tags.get('s');
  if (
    services !== undefined &&
    !noSpace(services)
      .split(':')
      .some((s) => s === '*' || s.toLowerCase() === 'email')
  )
    return invalid('key not for email');
  const type = (tags.get('k') ?? 'rsa').trim().toLowerCase();
  if (type !== 'rsa' && type !== 'ed25519') return invalid('unknown key type');
  const data = tags.get('p');
  if (data === undefined) return invalid('invalid public key');
  const base64 = noSpace(data);
  if (base64 === '') return invalid('key revoked');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return invalid('invalid public key');
  const bytes = Buffer.from(base64, 'base64');
  let key: KeyObject;
  try {
    if (type === 'ed25519') {
      if (bytes.length !== 32) return invalid('invalid public key');
      key = createPublicKey({ key: Buffer.concat([ED25519_SPKI, bytes]), format: 'der', type: 'spki' });
    } else {
      // RFC 6376 says SubjectPublicKeyInfo; some publish the bare RSAPublicKey (PKCS#1).
      try {
        key = createPublicKey({ key: bytes, format: 'der', type: 'spki' });
      } catch {
        key = createPublicKey({ key: bytes, format: 'der', type: 'pkcs1' });
      }
    }
  } catch {
    return invalid('invalid public key');
  }
  if (key.asymmetricKeyType !== type) return invalid('unknown key type');
  if (type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return { problem: '', result: 'policy', policy: 'weak-key' };
  const flags = noSpace(tags.get('t') ?? '').split(':');
  return { key, type, strictDomain: flags.includes('s') };
}

/** Parsed key records by their text: the same text is the same key, whatever its TTL. Oldest out when full. */
export function keyParser(maxEntries = 1000): (text: string) => ParsedKey {
  const parsed = new BoundedMap<string, ParsedKey>(maxEntries);
  return (text) => {
    let found = parsed.get(text);
    if (!found) {
      found = parseKeyRecord(text);
      parsed.set(text, found);
    }
    return found;
  };
}

// ---- canonicalisation (RFC 6376 3.4) ----

/** Relaxed header canonicalisation of one field: name lower-case, unfolded, white space runs as one space, none around the colon or at the end. */
function relaxedField(raw: string): string {
  const colon = raw.indexOf(':');
  const name = raw
    .slice(0, colon)
    .replace(/[ \t]+$/, '')
    .toLowerCase();
  const value = raw
    .slice(colon + 1)
    .replace(/\r?\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return `${name}:${value}\r\n`;
}

/** Simple header canonicalisation: the field as it is, with CRLF line ends. */
const simpleField = (raw: string) => raw.replace(/\r?\n/g, '\r\n');

/**
 * The body's canonical form fed to a hash as it streams: lines end in CRLF, empty lines at the end
 * are dropped, relaxed also folds white space runs to one space and drops it at line ends. `limit`
 * (the l= tag) stops the hashing, not the counting.
 */
export class BodyHasher {
  /** Canonical bytes of the whole body, and those hashed. */
  total = 0;
  hashed = 0;
  private partial = '';
  private blankLines = 0;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly relaxed: boolean,
    private readonly limit: number | null,
  ) {}

  update(chunk: Buffer): void {
    const lines = (this.partial + chunk.toString('latin1')).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.line(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  /** The body hash, base64. */
  digest(): string {
    if (this.partial !== '') this.line(this.partial.endsWith('\r') ? this.partial.slice(0, -1) : this.partial);
    this.partial = '';
    // An empty body is one CRLF in simple, nothing in relaxed.
    if (!this.relaxed && this.total === 0) this.emit('\r\n');
    return this.hash.digest('base64');
  }

  private line(text: string): void {
    const line = this.relaxed ? text.replace(/[ \t]+/g, ' ').replace(/ $/, '') : text;
    if (line === '') {
      // Kept back: an empty line counts only when a line with something on it follows.
      this.blankLines += 1;
      return;
    }
    if (this.blankLines > 0) this.emit('\r\n'.repeat(this.blankLines));
    this.blankLines = 0;
    this.emit(`${line}\r\n`);
  }

  private emit(text: string): void {
    this.total += text.length;
    const room = this.limit === null ? text.length : Math.max(0, this.limit - this.hashed);
    if (room <= 0) return;
    const part = room < text.length ? text.slice(0, room) : text;
    this.hashed += part.length;
    this.hash.update(part, 'latin1');
  }
}

// ---- signatures ----

interface Signature {
  field: HeaderField;
  tags: Map<string, string>;
  domain: string;
  selector: string;
  algorithm: string;
  relaxedHead: boolean;
  relaxedBody: boolean;
  limit: number | null;
  signedFields: string[];
  bodyHash: string;
  signature: Buffer;
  identityDomain: string;
  timestamp: number | null;
  expires: number | null;
}

/** A DKIM-Signature's tags checked (RFC 6376 3.5, 6.1.1); a string says what is wrong with it. */
function readSignature(field: HeaderField): Signature | string {
  const raw = field.raw.toString('latin1');
  const tags = parseTags(raw.slice(raw.indexOf(':') + 1));
  if (!tags) return 'signature syntax error';
  for (const tag of ['v', 'a', 'b', 'bh', 'd', 'h', 's']) if (!tags.has(tag)) return `signature has no ${tag}= tag`;
  if (tags.get('v')!.trim() !== '1') return 'unknown signature version';
  const domain = noSpace(tags.get('d')!).toLowerCase();
  const selector = noSpace(tags.get('s')!).toLowerCase();
  if (!domain || !selector) return 'signature has no domain or selector';
  const algorithm = noSpace(tags.get('a')!).toLowerCase();
  const [headCanon = 'simple', bodyCanon = 'simple'] = noSpace(tags.get('c') ?? 'simple/simple')
    .toLowerCase()
    .split('/');
  if (!['simple', 'relaxed'].includes(headCanon) || !['simple', 'relaxed'].includes(bodyCanon)) return 'unknown canonicalization';
  const signedFields = noSpace(tags.get('h')!).toLowerCase().split(':').filter(Boolean);
  // The From: field must be signed (RFC 6376 5.4).
  if (!signedFields.includes('from')) return 'From: not signed';
  const identity = tags.has('i') ? noSpace(tags.get('i')!).toLowerCase() : `@${domain}`;
  const identityDomain = identity.slice(identity.lastIndexOf('@') + 1);
  if (identityDomain !== domain && !identityDomain.endsWith(`.${domain}`)) return 'i= not within d=';
  const number = (tag: string) => (tags.has(tag) && /^\d+$/.test(noSpace(tags.get(tag)!)) ? Number(noSpace(tags.get(tag)!)) : null);
  if (tags.has('l') && number('l') === null) return 'invalid l= tag';
  return {
    field,
    tags,
    domain,
    selector,
    algorithm,
    relaxedHead: headCanon === 'relaxed',
    relaxedBody: bodyCanon === 'relaxed',
    limit: number('l'),
    signedFields,
    bodyHash: noSpace(tags.get('bh')!),
    signature: Buffer.from(noSpace(tags.get('b')!), 'base64'),
    identityDomain,
    timestamp: number('t'),
    expires: number('x'),
  };
}

/** The signed header data (RFC 6376 3.7): the fields h= names, each the lowest unused instance, then the signature with b= empty and no final line break. */
function signedHeaderData(fields: HeaderField[], sig: Signature): Buffer {
  const canon = sig.relaxedHead ? relaxedField : simpleField;
  const byName = new Map<string, string[]>();
  for (const field of fields) {
    if (field === sig.field) continue;
    const name = fieldName(field);
    const list = byName.get(name) ?? [];
    list.push(field.raw.toString('latin1'));
    byName.set(name, list);
  }
  let data = '';
  for (const name of sig.signedFields) {
    const raw = byName.get(name)?.pop();
    if (raw !== undefined) data += canon(raw);
  }
  const own = sig.field.raw
    .toString('latin1')
    .replace(/\r?\n$/, '')
    .replace(/(^[^:]*:|;)([ \t\r\n]*b[ \t\r\n]*=)[^;]*/, '$1$2');
  data += canon(own).replace(/\r\n$/, '');
  return Buffer.from(data, 'latin1');
}

/** A row as mailauth writes it, so the viewer and earlier headers read alike. */
function row(result: DkimResult, comment: string, policy: string, sig: { domain: string; selector: string; algorithm: string; b: string }): string {
  const parts = [`dkim=${result}`];
  if (comment) parts.push(`(${commentValue(comment)})`);
  if (policy) parts.push(`policy.dkim-rules=${policy}`);
  if (sig.domain) parts.push(`header.i=${propValue(`@${sig.domain}`)}`);
  if (sig.selector) parts.push(`header.s=${propValue(sig.selector)}`);
  if (sig.algorithm) parts.push(`header.a=${propValue(sig.algorithm)}`);
  if (sig.b) parts.push(`header.b=${propValue(sig.b.slice(0, 8))}`);
  return parts.join(' ');
}

export interface DkimVerifyOptions {
  resolve: DnsResolve;
  keys: (text: string) => ParsedKey;
  now?: () => number;
}

/**
 * Verifies every DKIM-Signature of the message whose header fields are `fields` and whose body
 * `body` yields. An unsigned message gives one 'none' row and no outcomes.
 */
export async function verifyDkim(
  fields: HeaderField[],
  body: AsyncIterable<Buffer> | Iterable<Buffer>,
  options: DkimVerifyOptions,
): Promise<{ outcomes: DkimOutcome[]; rows: string[] }> {
  const found = fields.filter((f) => fieldName(f) === 'dkim-signature').map((field) => ({ field, sig: readSignature(field) }));
  if (found.length === 0) {
    for await (const chunk of body) void chunk;
    return { outcomes: [], rows: ['dkim=none (message not signed)'] };
  }
  // One hasher for each canonicalisation and length the signatures ask for.
  const hashers = new Map<string, BodyHasher>();
  const hasherKey = (sig: Signature) => `${sig.relaxedBody}:${sig.limit ?? ''}`;
  for (const { sig } of found)
    if (typeof sig !== 'string' && !hashers.has(hasherKey(sig))) hashers.set(hasherKey(sig), new BodyHasher(sig.relaxedBody, sig.limit));
  for await (const chunk of body) for (const hasher of hashers.values()) hasher.update(chunk);
  const bodyHashes = new Map([...hashers].map(([key, hasher]) => [key, hasher.digest()]));
  const now = Math.floor((options.now ?? Date.now)() / 1000);

  const outcomes = await Promise.all(
    found.map(async ({ field, sig }): Promise<DkimOutcome> => {
      if (typeof sig === 'string') {
        const tags = parseTags(field.raw.toString('latin1').slice(field.raw.indexOf(':') + 1));
        const shown = { domain: noSpace(tags?.get('d') ?? ''), selector: noSpace(tags?.get('s') ?? ''), algorithm: noSpace(tags?.get('a') ?? ''), b: '' };
        return { ...shown, result: 'permerror', comment: sig, info: row('permerror', sig, '', shown) };
      }
      const shown = { domain: sig.domain, selector: sig.selector, algorithm: sig.algorithm, b: noSpace(sig.tags.get('b')!) };
      const done = (result: DkimResult, comment = '', policy = ''): DkimOutcome => ({
        domain: sig.domain,
        selector: sig.selector,
        algorithm: sig.algorithm,
        result,
        comment,
        info: row(result, comment, policy, shown),
      });
      // rsa-sha1 is no longer acceptable (RFC 8301).
      if (sig.algorithm === 'rsa-sha1') return done('policy', '', 'weak-algorithm');
      if (sig.algorithm !== 'rsa-sha256' && sig.algorithm !== 'ed25519-sha256') return done('permerror', 'unknown algorithm');
      const hasher = hashers.get(hasherKey(sig))!;
      if (bodyHashes.get(hasherKey(sig)) !== sig.bodyHash) return done('neutral', 'body hash did not verify');
      // l= below the body's length leaves what follows unsigned: anyone could have added it.
      if (sig.limit !== null && hasher.total > sig.limit) return done('policy', `undersized signature: ${hasher.total - sig.limit} bytes unsigned`);
      let records: string[][] | string[];
      try {
        records = await options.resolve(`${sig.selector}._domainkey.${sig.domain}`, 'TXT');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        return code === 'ENOTFOUND' || code === 'ENODATA' ? done('neutral', 'no key') : done('temperror', `DNS failure: ${code}`);
      }
      const first = records[0];
      const text = (Array.isArray(first) ? first.join('') : (first ?? '')).trim();
      if (!text) return done('neutral', 'no key');
      const key = options.keys(text);
      if ('problem' in key) return done(key.result, key.problem, key.policy ?? '');
      if (key.type !== sig.algorithm.split('-')[0]) return done('neutral', 'key type does not match the algorithm');
      if (key.strictDomain && sig.identityDomain !== sig.domain) return done('neutral', 'i= is a subdomain, which the key forbids');
      const data = signedHeaderData(fields, sig);
      let good: boolean;
      try {
        good =
          key.type === 'rsa'
            ? verifySignature('sha256', data, key.key, sig.signature)
            : verifySignature(null, createHash('sha256').update(data).digest(), key.key, sig.signature);
      } catch (err) {
        return done('neutral', (err as Error).message);
      }
      if (!good) return done('fail', 'bad signature');
      if (sig.expires !== null && sig.timestamp !== null && sig.expires < sig.timestamp) return done('neutral', 'invalid expiration');
      if (sig.expires !== null && sig.expires < now) return done('neutral', 'expired');
      return done('pass');
    }),
  );
  return { outcomes, rows: outcomes.map((o) => o.info) };
}
