// Debian's bsdtar (libarchive, package libarchive-tools) as a decoder: it reads RAR 4 and RAR 5, which
// Debian's 7-Zip cannot, and 7z, CAB and LZH in one run. It rewrites the archive as a pax stream on
// its stdout (names, then contents), which archives.ts reads like any tar, through the budget: no
// file is written except the containers found inside, and a bomb stops at the byte budget however
// the archive lies about sizes. Run as a decoder process (decoder-process.ts).
import type { InspectionBudget } from './budget.js';
import { runDecoder, streamDecoder, type DecoderStream } from './decoder-process.js';

export const BSDTAR = process.env.MAILFILTER_BSDTAR ?? 'bsdtar';
const BYTES_PER_LISTED_NAME = 1024;

/** bsdtar reading `path` and writing it out as a pax archive on stdout. */
export function streamAsTar(path: string, cwd: string, budget: InspectionBudget): DecoderStream {
  return streamDecoder(BSDTAR, ['-c', '-f', '-', '--format', 'pax', `@${path}`], cwd, budget);
}

/** Why bsdtar could not read an archive, in the words of the UNCHECKED detail. */
export function whyBsdtarFailed(stderr: string): string {
  if (/encrypt|passphrase|password/i.test(stderr)) return 'encrypted, contents hidden';
  if (/truncated|unexpected end|premature/i.test(stderr)) return 'truncated';
  if (/unrecognized archive format|not supported|unsupported/i.test(stderr)) return 'corrupt, or a format this system cannot decode';
  const first = stderr
    .replace(/bsdtar: Error exit delayed from previous errors\.?/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return `cannot be decoded (${first.slice(0, 80) || 'no reason given'})`;
}

/**
 * The names bsdtar lists (one a line), for an archive whose contents it could not read: the names are
 * still judged. Throws nothing on a failed listing; `problem` then says why.
 */
export async function listNamesWithBsdtar(path: string, cwd: string, budget: InspectionBudget): Promise<{ names: string[]; problem?: string }> {
  const maxOutput = (budget.remaining().entries + 16) * BYTES_PER_LISTED_NAME;
  const run = await runDecoder(BSDTAR, ['-t', '-f', path], cwd, budget, maxOutput);
  const names = run.stdout.split('\n').filter((name) => name !== '' && !name.endsWith('/'));
  return run.code === 0 ? { names } : { names, problem: whyBsdtarFailed(run.stderr) };
}
