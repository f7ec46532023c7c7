// The wizard's check of a shared database, run as the admin types it: `mailfilter cluster check`
// in a child process (the wizard's checks answer at once, and this one must connect), with the
// URL in its environment rather than on its command line, where `ps` would show the password.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface SharedStorageCheck {
  /** What is there, in one line (the schema's version against this release's), when it can be joined. */
  found?: string;
  /** Why it cannot, in plain words. */
  error?: string;
}

/** The command beside this file: built (dist/runtime/cli.js), or the sources run through tsx. */
function command(): string[] {
  const built = fileURLToPath(new URL('../runtime/cli.js', import.meta.url));
  return existsSync(built) ? [built] : ['--import', 'tsx', fileURLToPath(new URL('../runtime/cli.ts', import.meta.url))];
}

// The wizard asks again on the review: an answer checked once is not connected to twice.
const checked = new Map<string, SharedStorageCheck>();

export function checkSharedStorage(url: string, caFile: string): SharedStorageCheck {
  const key = `${url}\n${caFile}`;
  const known = checked.get(key);
  if (known) return known;
  const child = spawnSync(process.execPath, [...command(), 'cluster', 'check', ...(caFile ? ['--ca-file', caFile] : [])], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, MAILFILTER_STORAGE_URL: url, MAILFILTER_LOG_LEVEL: 'error' },
  });
  let result: SharedStorageCheck;
  if (child.status === 0) result = { found: child.stdout.split('\n')[0]!.trim() };
  else if (child.error || child.signal) result = { error: `the check did not finish (${child.error?.message ?? child.signal})` };
  else {
    const said = child.stderr.split('\n').find((line) => line.startsWith('mailfilter: '));
    result = { error: (said ?? child.stderr.trim()).replace(/^mailfilter: /, '') || `the check failed (exit ${child.status})` };
  }
  if (result.found) checked.set(key, result);
  return result;
}
