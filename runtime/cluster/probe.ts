// What a node finds at a shared database before it joins (`mailfilter cluster join`/`check`, the
// wizard's question): can it connect, and how does the schema there compare with this release's.
// Connection failures are told in the admin's terms (password, certificate, address), never with
// the password.
import { sql, type Kysely } from 'kysely';
import { parsePostgresUrl } from '../config/fields.js';
import type { AppConfig } from '../config/schema.js';
import { openSharedDatabase, SHARED_MIGRATIONS, SHARED_SCHEMA_VERSION, type SharedTables } from '../storage/shared-schema.js';
import { DatabaseUnreachableError } from '../storage/connect-backoff.js';
import { listNodes, type ClusterNode } from './nodes.js';

export type SchemaVerdict = 'empty' | 'older' | 'same' | 'newer';

export interface SharedDatabaseState {
  /** host:port/database, for the admin's eyes (no user, no password). */
  where: string;
  /** PostgreSQL's own version, e.g. "15.10". */
  serverVersion: string;
  /** The shared schema's migrations already run there, by name. */
  applied: string[];
  /** Run there but unknown to this release: a newer release migrated it. */
  unknown: string[];
  verdict: SchemaVerdict;
  /** The nodes that wrote a heartbeat there (none before the schema exists). */
  nodes: ClusterNode[];
  /** The database's clock when it was looked at (milliseconds). */
  now: number;
}

export class SharedDatabaseError extends Error {}

/** host:port/database of a connection string that parsePostgresUrl accepted. */
export function describeWhere(url: string): string {
  const parts = parsePostgresUrl(url);
  return `${parts.host}:${parts.port}/${parts.database}`;
}

/** The connection string with its password replaced, for screens and logs. */
export function maskedUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1********@');
}

/** Looks at the database named by `storage` without changing anything. Throws a SharedDatabaseError in plain words. */
export async function inspectSharedDatabase(storage: AppConfig['storage']): Promise<SharedDatabaseState> {
  let where: string;
  try {
    where = describeWhere(storage.url);
  } catch (err) {
    throw new SharedDatabaseError(`the connection string ${(err as Error).message}`);
  }
  let db: Kysely<SharedTables>;
  try {
    db = openSharedDatabase(storage, 'mailfilter-join', 1);
  } catch (err) {
    throw connectionProblem(err, storage);
  }
  try {
    return await readState(db, where);
  } catch (err) {
    throw connectionProblem(err, storage);
  } finally {
    await db.destroy().catch(() => undefined);
  }
}

async function readState(db: Kysely<SharedTables>, where: string): Promise<SharedDatabaseState> {
  const head = await sql<{
    version: string;
    now: number;
    migrations: string | null;
    nodes: string | null;
  }>`SELECT current_setting('server_version') AS version, (extract(epoch from clock_timestamp()) * 1000)::bigint AS now,
            to_regclass('mailfilter_migrations')::text AS migrations, to_regclass('cluster_nodes')::text AS nodes`.execute(db);
  const row = head.rows[0]!;
  const applied = row.migrations ? (await sql<{ name: string }>`SELECT name FROM mailfilter_migrations ORDER BY name`.execute(db)).rows.map((r) => r.name) : [];
  const known = new Set(Object.keys(SHARED_MIGRATIONS));
  const unknown = applied.filter((name) => !known.has(name));
  const verdict: SchemaVerdict = unknown.length > 0 ? 'newer' : applied.length === 0 ? 'empty' : applied.length < SHARED_SCHEMA_VERSION ? 'older' : 'same';
  return {
    where,
    serverVersion: row.version.split(' ')[0]!,
    applied,
    unknown,
    verdict,
    nodes: row.nodes ? await listNodes(db) : [],
    now: row.now,
  };
}

/** One line on what joining would do with the schema found. */
export function schemaLine(state: SharedDatabaseState): string {
  const found = `PostgreSQL ${state.serverVersion} at ${state.where}`;
  switch (state.verdict) {
    case 'empty':
      return `${found}: no mailfilter schema yet; this node creates it (version ${SHARED_SCHEMA_VERSION}) under the migration lock`;
    case 'older':
      return `${found}: schema version ${state.applied.length}, this release's is ${SHARED_SCHEMA_VERSION}; this node brings it up to date under the migration lock`;
    case 'same':
      return `${found}: schema version ${state.applied.length}, the same as this release's`;
    case 'newer':
      return `${found}: schema version ${state.applied.length}, newer than this release's ${SHARED_SCHEMA_VERSION} (${state.unknown.join(', ')} unknown here)`;
  }
}

/** Why a database migrated by a newer release is not joined, and what to do. */
export function newerSchemaProblem(state: SharedDatabaseState): string {
  return `${schemaLine(state)}. A newer release migrated it: upgrade this node to that release first, then join.`;
}

/** A node's line: name, state, how long ago it was heard from, version and Postfix queue. */
export function nodeLine(node: ClusterNode, now: number): string {
  const queue = node.queueSize < 0 ? 'queue unknown' : `${node.queueSize} in the Postfix queue`;
  return `${node.name}: ${node.alive ? 'up' : 'NOT HEARD FROM'}, last heartbeat ${age(now - node.heartbeatAt)} ago, release ${node.version}, ${queue}`;
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

const CERTIFICATE_NOT_TRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/** A failed connection in the admin's terms: what is wrong and where to look. */
export function connectionProblem(err: unknown, storage: AppConfig['storage']): SharedDatabaseError {
  if (err instanceof SharedDatabaseError) return err;
  // Held back after a failed try moments ago: that try's error says what is wrong.
  if (err instanceof DatabaseUnreachableError && err.cause) return connectionProblem(err.cause, storage);
  const e = err as NodeJS.ErrnoException & { code?: string; reason?: string };
  const message = e.message ?? String(err);
  let parts: ReturnType<typeof parsePostgresUrl>;
  try {
    parts = parsePostgresUrl(storage.url);
  } catch (parseError) {
    return new SharedDatabaseError(`the connection string ${(parseError as Error).message}`);
  }
  const where = `${parts.host}:${parts.port}`;
  const ca = storage.caFile ? `the CA in ${storage.caFile}` : "the system's CAs (no CA file given)";
  const say = (text: string) => new SharedDatabaseError(text);
  switch (e.code) {
    case '28P01':
      return say(`${where} refused the password for user "${parts.user}": check the user and password in the connection string`);
    case '3D000':
      return say(`${where} has no database "${parts.database}": create it (createdb -O ${parts.user} ${parts.database}) or correct the name`);
    case '28000':
      return say(
        `${where} does not let this node in (${message}): add a "hostssl ${parts.database} ${parts.user} <this node's address>/32 scram-sha-256" line to its pg_hba.conf`,
      );
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return say(
        `the certificate of ${where} is not made out to "${parts.host}" (${e.reason ?? message}): connect by a name the certificate holds, or give the server a certificate for this one`,
      );
    case 'CERT_HAS_EXPIRED':
      return say(`the certificate of ${where} has expired: the database server needs a current one`);
    case 'CERT_NOT_YET_VALID':
      return say(`the certificate of ${where} is not valid yet: check this node's clock (and the server's)`);
    case 'ECONNREFUSED':
      return say(`nothing answers at ${where} (connection refused): is PostgreSQL running there, listening on that address (listen_addresses) and port?`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return say(`the name ${parts.host} is not found in DNS: check the host in the connection string and this node's DNS servers`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return say(`${where} cannot be reached (${e.code}): check the address, the routes and any firewall between this node and the database`);
    case 'ENOENT':
    case 'EACCES':
    case 'EISDIR':
      if (storage.caFile && message.includes(storage.caFile)) return say(`the CA file ${storage.caFile} cannot be read (${e.code})`);
      break;
  }
  if (e.code && CERTIFICATE_NOT_TRUSTED.has(e.code))
    return say(`the certificate of ${where} is not signed by ${ca}: name the CA that signed it (--ca-file, storage.caFile)`);
  if (/does not support SSL/i.test(message)) return say(`${where} does not offer TLS: turn ssl on in its postgresql.conf (with a certificate)`);
  if (/timeout|timed out/i.test(message))
    return say(`no answer from ${where} within 10 s: check the address, the port and any firewall between this node and the database`);
  if (/PEM|certificate/i.test(message) && storage.caFile) return say(`the CA file ${storage.caFile} holds no usable certificate (${message})`);
  return say(`${where}: ${message}`);
}
