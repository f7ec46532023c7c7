// Messages in transit: each message being fetched is one file in <stateDir>/tmp, readable by the
// fetcher's user only (it is somebody's mail in clear), removed once the message has its outcome.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export function transitPath(transitDir: string): string {
  return join(transitDir, `${randomBytes(8).toString('hex')}.eml`);
}

/**
 * Run at start: files left by a fetcher that was killed are removed, not re-injected. Each one is
 * either not yet accepted by Postfix, and then still on the server (nothing is deleted there before
 * it is recorded) and fetched again next poll; or accepted but not recorded, and re-injecting it
 * would only add the duplicate the next poll makes anyway. It may also be cut short mid-download.
 * The server's copy is the one to trust. Returns how many were removed.
 */
export function clearTransit(transitDir: string): number {
  mkdirSync(transitDir, { recursive: true, mode: 0o700 });
  const leftovers = readdirSync(transitDir);
  for (const name of leftovers) rmSync(join(transitDir, name), { force: true, recursive: true });
  return leftovers.length;
}
