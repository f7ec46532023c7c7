// Field descriptors: each config value declares its type, default, range and help text in one
// place. Validation (here) and the wizard's prompts (firstboot) are both derived from them.
import { isIP } from 'node:net';

export interface Field<T> {
  readonly kind: string;
  readonly default: T;
  readonly describe: string;
  /** A number's allowed range (num fields). */
  readonly range?: NumberRange;
  /** The allowed words (oneOf fields). */
  readonly values?: readonly string[];
  /** Narrows an unknown JSON value, or throws a message saying what was expected. */
  parse(raw: unknown): T;
}

export interface NumberRange {
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
}

export const DESTINIES = ['D_PASS', 'D_BOUNCE', 'D_DISCARD'] as const;
export type Destiny = (typeof DESTINIES)[number];

function show(raw: unknown): string {
  const text = JSON.stringify(raw);
  return text === undefined ? String(raw) : text.length > 60 ? text.slice(0, 57) + '...' : text;
}

function field<T>(kind: string, def: T, describe: string, parse: (raw: unknown) => T, more: Pick<Field<T>, 'range' | 'values'> = {}): Field<T> {
  return { kind, default: def, describe, parse, ...more };
}

export function bool(def: boolean, describe: string): Field<boolean> {
  return field('boolean', def, describe, (raw) => {
    if (typeof raw === 'boolean') return raw;
    throw new Error(`must be true or false (got ${show(raw)})`);
  });
}

export function num(def: number, describe: string, range: NumberRange): Field<number> {
  return field(
    range.integer ? 'integer' : 'number',
    def,
    describe,
    (raw) => {
      if (typeof raw !== 'number' || !Number.isFinite(raw)) throw new Error(`must be a number (got ${show(raw)})`);
      if (range.integer && !Number.isInteger(raw)) throw new Error(`must be a whole number (got ${show(raw)})`);
      if (raw < range.min || raw > range.max) throw new Error(`must be between ${range.min} and ${range.max} (got ${raw})`);
      return raw;
    },
    { range },
  );
}

/** A whole number from min to max: counts, sizes in bytes, seconds. */
export function whole(def: number, describe: string, min: number, max: number): Field<number> {
  return num(def, describe, { min, max, integer: true });
}

export function port(def: number, describe: string): Field<number> {
  return whole(def, describe, 1, 65535);
}

export function text(def: string, describe: string, opts: { pattern?: RegExp; what?: string; allowEmpty?: boolean } = {}): Field<string> {
  return field('string', def, describe, (raw) => {
    if (typeof raw !== 'string') throw new Error(`must be a string (got ${show(raw)})`);
    if (raw === '' && opts.allowEmpty !== false) return raw;
    if (opts.pattern && !opts.pattern.test(raw)) throw new Error(`must be ${opts.what ?? `like ${opts.pattern}`} (got ${show(raw)})`);
    if (/[\r\n\0]/.test(raw)) throw new Error('must not contain line breaks or NUL');
    return raw;
  });
}

export function oneOf<const V extends string>(values: readonly V[], def: V, describe: string): Field<V> {
  return field(
    'enum',
    def,
    describe,
    (raw) => {
      if (typeof raw === 'string' && (values as readonly string[]).includes(raw)) return raw as V;
      throw new Error(`must be one of ${values.join(', ')} (got ${show(raw)})`);
    },
    { values },
  );
}

export function list<T>(item: Field<T>, def: T[], describe: string): Field<T[]> {
  return field(`list of ${item.kind}`, def, describe, (raw) => {
    if (!Array.isArray(raw)) throw new Error(`must be a list (got ${show(raw)})`);
    return raw.map((entry, index) => {
      try {
        return item.parse(entry);
      } catch (err) {
        throw new Error(`item ${index + 1}: ${(err as Error).message}`);
      }
    });
  });
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
export const HOSTNAME_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, 'i');
export const DOMAIN_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`, 'i');

export function isIPv4(value: string): boolean {
  return isIP(value) === 4;
}

export function isCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  if (extra !== undefined || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n >= 0 && n <= (family === 4 ? 32 : 128);
}

export function hostname(def: string, describe: string, opts: { allowEmpty?: boolean } = {}): Field<string> {
  return text(def, describe, { pattern: HOSTNAME_RE, what: 'a host name like mail.company.local', ...opts });
}

export function hostOrAddress(def: string, describe: string): Field<string> {
  return field('host', def, describe, (raw) => {
    if (typeof raw === 'string' && (raw === '' || HOSTNAME_RE.test(raw) || isIP(raw) !== 0)) return raw;
    throw new Error(`must be a host name or an IP address (got ${show(raw)})`);
  });
}

export function ipv4(def: string, describe: string): Field<string> {
  return field('ipv4', def, describe, (raw) => {
    if (typeof raw === 'string' && (raw === '' || isIPv4(raw))) return raw;
    throw new Error(`must be an IPv4 address like 192.168.100.10 (got ${show(raw)})`);
  });
}

export function domain(def: string, describe: string): Field<string> {
  return text(def, describe, { pattern: DOMAIN_RE, what: 'a domain like company.com' });
}

export function destiny(def: Destiny, describe: string): Field<Destiny> {
  return oneOf(DESTINIES, def, describe);
}

/** 'host', 'subnet', or a list of networks in CIDR notation (the wizard's "allowed networks"). */
export function allowedNetworks(def: string[], describe: string): Field<string[]> {
  return field('networks', def, describe, (raw) => {
    const entries = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw;
    if (!Array.isArray(entries) || entries.length === 0)
      throw new Error(`must be "host", "subnet" or a list of networks like 192.168.100.0/24 (got ${show(raw)})`);
    if (entries.length === 1 && (entries[0] === 'host' || entries[0] === 'subnet')) return [entries[0]];
    return entries.map((entry, index) => {
      if (typeof entry === 'string' && isCidr(entry)) return entry;
      throw new Error(`item ${index + 1}: must be a network like 192.168.100.0/24 (got ${show(entry)})`);
    });
  });
}

export interface PostgresUrl {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Only on loopback: sslmode=disable. Everywhere else TLS is used and the certificate verified. */
  plain: boolean;
}

const isLoopbackHost = (host: string) => host === 'localhost' || (isIP(host) !== 0 && (host.startsWith('127.') || host === '::1'));

/**
 * A PostgreSQL connection string, or an error that says what is wrong. Off loopback TLS cannot be
 * turned off: the shared database holds every user's quarantined mail and password hash.
 */
export function parsePostgresUrl(raw: string): PostgresUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('must look like postgresql://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') throw new Error(`must be a PostgreSQL connection string, not ${url.protocol}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new Error('must name the database server (postgresql://user:password@host/database)');
  const sslmode = url.searchParams.get('sslmode');
  const loopback = isLoopbackHost(host);
  if (!loopback && (sslmode === 'disable' || sslmode === 'allow' || sslmode === 'prefer'))
    throw new Error(`must reach ${host} over TLS (sslmode=${sslmode} is refused off loopback)`);
  const user = decodeURIComponent(url.username);
  const parts = {
    host,
    port: url.port ? Number(url.port) : 5432,
    user,
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || user,
    plain: loopback && sslmode === 'disable',
  };
  // They end up in rendered files (SpamAssassin's Bayes settings), one setting a line.
  if (/[\x00-\x1f\x7f;]/.test(parts.user + parts.password + parts.database))
    throw new Error('must not hold control characters or ";" in the user, password or database');
  return parts;
}

export function postgresUrl(def: string, describe: string): Field<string> {
  return field('postgresql url', def, describe, (raw) => {
    if (typeof raw !== 'string') throw new Error(`must be a string (got ${show(raw)})`);
    if (raw !== '') parsePostgresUrl(raw);
    return raw;
  });
}
