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
