// The shared PostgreSQL of several appliances: the connection (TLS required off loopback, the
// server's certificate verified) and the Kysely handle the stores query through.
import { readFileSync } from 'node:fs';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { parsePostgresUrl, type PostgresUrl } from '../config/fields.js';
import { logger } from '../log.js';
import { ConnectBackoff } from './connect-backoff.js';

export interface PostgresSettings {
  /** postgresql://user:password@host:port/database */
  url: string;
  /** The CA that signed the server's certificate (PEM); blank: the system's CAs. */
  caFile: string;
  /** Told to the server (pg_stat_activity), so an admin sees which node holds a connection. */
  applicationName?: string;
  /** Connections in this node's pool. */
  maxConnections?: number;
  /** How long a new connection may take before it counts as failed (tests shorten it). */
  connectTimeoutMs?: number;
}

/** A host that drops packets costs this much per attempt until the back-off holds new ones back. */
const CONNECT_TIMEOUT_MS = 10_000;
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
    connectionTimeoutMillis: settings.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    // A node that dies mid-query must not hold locks until TCP notices: the server ends it.
    keepAlive: true,
    // Times are kept as BIGINT milliseconds; pg hands int8 over as a string unless told otherwise.
    types: { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) },
  };
}

/** One per host: every pool of this process to it shares what is known of its reach. */
const backoffs = new Map<string, ConnectBackoff>();
const log = logger('storage');

function backoffFor(host: string): ConnectBackoff {
  let backoff = backoffs.get(host);
  if (!backoff) backoffs.set(host, (backoff = new ConnectBackoff({ host, log })));
  return backoff;
}

/** pg's client, whose every new connection goes through the host's back-off. */
function clientBehind(backoff: ConnectBackoff, timeoutMs: number): typeof pg.Client {
  return class extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error | null, client?: pg.Client) => void): void;
    override connect(callback?: (err: Error | null, client?: pg.Client) => void): Promise<pg.Client> | void {
      const connected = backoff.attempt(() => super.connect(), timeoutMs);
      if (!callback) return connected;
      void connected.then(
        (client) => callback(null, client),
        (err: Error) => callback(err),
      );
    }
  };
}

/** A Kysely handle on the shared database; `destroy()` ends the pool. */
export function openPostgres<Tables>(settings: PostgresSettings): Kysely<Tables> {
  const config = poolConfig(settings);
  const backoff = backoffFor(`${config.host?.includes(':') ? `[${config.host}]` : config.host}:${config.port}`);
  const pool = new pg.Pool({ ...config, Client: clientBehind(backoff, settings.connectTimeoutMs ?? CONNECT_TIMEOUT_MS) });
  // An idle connection the server dropped (restart, failover) must not crash the daemon.
  pool.on('error', () => undefined);
  return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
}
