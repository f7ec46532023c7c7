// The shared PostgreSQL of several appliances: the connection (TLS required off loopback, the
// server's certificate verified) and the Kysely handle the stores query through.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

export interface PostgresSettings {
  /** postgresql://user:password@host:port/database */
  url: string;
  /** The CA that signed the server's certificate (PEM); blank: the system's CAs. */
  caFile: string;
  /** Told to the server (pg_stat_activity), so an admin sees which node holds a connection. */
  applicationName?: string;
  /** Connections in this node's pool. */
  maxConnections?: number;
}

const INT8_OID = 20;
/** Milliseconds and counts fit a double by far; anything that does not is an error, not a rounding. */
const parseInt8 = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`a BIGINT out of range: ${value}`);
  return n;
};

const isLoopback = (host: string) => host === 'localhost' || (isIP(host) !== 0 && (host.startsWith('127.') || host === '::1'));

/**
 * The pool's settings from the connection string, or an error that says what is wrong. Off
 * loopback the connection must use TLS with the certificate verified: the shared database holds
 * every user's quarantined mail and password hash.
 */
export function poolConfig(settings: PostgresSettings): pg.PoolConfig {
  let url: URL;
  try {
    url = new URL(settings.url);
  } catch {
    throw new Error('storage: the PostgreSQL connection string must look like postgresql://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') throw new Error(`storage: ${url.protocol} is not a PostgreSQL connection string`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const sslmode = url.searchParams.get('sslmode');
  if (!isLoopback(host) && (sslmode === 'disable' || sslmode === 'allow' || sslmode === 'prefer'))
    throw new Error(`storage: PostgreSQL on ${host} must be reached over TLS (sslmode=${sslmode} is refused off loopback)`);
  const plainOnLoopback = isLoopback(host) && sslmode === 'disable';
  return {
    host,
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username),
    ssl: plainOnLoopback ? false : { rejectUnauthorized: true, ...(settings.caFile ? { ca: readFileSync(settings.caFile, 'utf8') } : {}) },
    application_name: settings.applicationName ?? 'mailfilter',
    max: settings.maxConnections ?? 10,
    connectionTimeoutMillis: 10_000,
    // A node that dies mid-query must not hold locks until TCP notices: the server ends it.
    keepAlive: true,
    // Times are kept as BIGINT milliseconds; pg hands int8 over as a string unless told otherwise.
    types: { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) },
  };
}

/** A Kysely handle on the shared database; `destroy()` ends the pool. */
export function openPostgres<Tables>(settings: PostgresSettings): Kysely<Tables> {
  const pool = new pg.Pool(poolConfig(settings));
  // An idle connection the server dropped (restart, failover) must not crash the daemon.
  pool.on('error', () => undefined);
  return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
}
