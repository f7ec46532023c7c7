// The shared PostgreSQL of several appliances: the connection (TLS required off loopback, the
// server's certificate verified) and the Kysely handle the stores query through.
import { readFileSync } from 'node:fs';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { parsePostgresUrl, type PostgresUrl } from '../config/fields.js';

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

/** The pool's settings; the connection string was checked with the config (parsePostgresUrl). */
export function poolConfig(settings: PostgresSettings): pg.PoolConfig {
  let url: PostgresUrl;
  try {
    url = parsePostgresUrl(settings.url);
  } catch (err) {
    throw new Error(`storage.url: ${(err as Error).message}`);
  }
  return {
    host: url.host,
    port: url.port,
    user: url.user,
    password: url.password,
    database: url.database,
    ssl: url.plain ? false : { rejectUnauthorized: true, ...(settings.caFile ? { ca: readFileSync(settings.caFile, 'utf8') } : {}) },
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

/** Socket errors that mean the server could not be reached or went away. */
const UNREACHABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * True when `err` says the database is down or out of reach (refused or cut connections,
 * PostgreSQL shutting down or starting up, no connection slot free) rather than that a query was
 * wrong: an outage, to be told as one (the viewer's 503), not a bug.
 */
export function databaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof AggregateError && err.errors.some(databaseUnavailable)) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    // SQLSTATE 08: connection exception; 57P: the server is shutting down or starting; 53300: too many connections.
    if (UNREACHABLE_SOCKET_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code === '53300') return true;
  }
  // pg's own words for a connection that ended or never came.
  return /^Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(err.message);
}
