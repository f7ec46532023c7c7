// Whether an error means the database cannot be reached just now (the shared PostgreSQL down,
// restarting or failing over, its connections used up), rather than a bug: the viewer answers
// those with a plain "try again shortly" page (503), the filter with 4xx.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/** PostgreSQL's SQLSTATEs for a server shutting down, starting up or out of connections. */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);
/** What pg says when a connection ends under it or none comes in time (the pool's timer, or the client's). */
const POOL_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|^timeout expired$|Client has encountered a connection error|connect ECONNREFUSED/i;

export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith('08') || code === 'SQLITE_BUSY')) return true;
  if (POOL_MESSAGES.test(err.message)) return true;
  // Node's connect to a name with several addresses fails with one error per address.
  if (err instanceof AggregateError) return err.errors.some(isDatabaseUnavailable);
  return err.cause !== undefined && isDatabaseUnavailable(err.cause);
}
