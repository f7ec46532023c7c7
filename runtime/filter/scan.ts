// Runs every check on a spooled message at once: clamd and spamd work in parallel with our own
// MIME walk (banned files and the containers decoded for it, headers). Each check reports; none
// decides. Content the decoders could not open is reported as 'unchecked', only when there is some.
import { mkdir, rm } from 'node:fs/promises';
import { checkVirus, type ClamdAddress } from '../checks/virus.js';
import { checkSpam, type SpamdAddress } from '../checks/spam.js';
import { checkBanned, shouldSpill, type BannedPolicy } from '../checks/banned.js';
import { checkHeaders } from '../checks/headers.js';
import { walkMime, type MimeStructure } from '../checks/mime-walk.js';
import { InspectionBudget, InspectionLimitError } from '../checks/budget.js';
import { checkResult, type CheckName, type CheckResult } from '../checks/result.js';
import type { MessageHead } from '../mail/message-head.js';
import { gatherAuth, type AuthEnvelope, type AuthMemory, type DnsResolve } from '../checks/auth.js';
import { judgeAuth } from '../checks/auth-judge.js';

export interface AuthSettings {
  authservId: string;
  resolve: DnsResolve;
  /** Parsed DKIM keys and recent SPF results, kept between messages (authMemory). */
  memory?: AuthMemory;
  ourDomains: string[];
  /** Whether an address is in the allowed networks (mynetworks). */
  inside: (address: string) => boolean;
  trustedSealers: string[];
}

export interface ScanSettings {
  /** The checks to run; the others report 'skip'. */
  checks: ReadonlyArray<CheckName>;
  clamd: ClamdAddress;
  spamd: SpamdAddress;
  policy: BannedPolicy & { spamLevel: number; saMaxBodySize: number };
  /** Without it the auth check is skipped. */
  auth?: AuthSettings;
}

export interface ScanInput {
  spoolPath: string;
  size: number;
  head: MessageHead;
  /** The whole message when it is small (the spool kept it); the checks read the file otherwise. */
  bytes?: Buffer | null;
  /** Who handed the message to Postfix (XFORWARD); the auth check is skipped without it. */
  envelope?: AuthEnvelope;
}

/** Parts and archive members are unpacked into a folder beside the spooled message, gone after. */
async function contentChecks(input: ScanInput, settings: ScanSettings): Promise<CheckResult[]> {
  const tempDir = `${input.spoolPath}.d`;
  await mkdir(tempDir, { mode: 0o700 });
  try {
    return await inspectContent(input, settings, tempDir);
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}

async function inspectContent(input: ScanInput, settings: ScanSettings, tempDir: string): Promise<CheckResult[]> {
  const { policy } = settings;
  const budget = new InspectionBudget({
    maxBytes: policy.maxArchiveBytes,
    maxEntries: policy.maxArchiveEntries,
    maxDepth: policy.maxArchiveDepth,
    maxSeconds: policy.maxInspectionSeconds,
    inputBytes: input.size,
  });
  let counter = 0;
  const context = { budget, tempDir, nextTempName: () => `t${++counter}` };
  let structure: MimeStructure;
  try {
    structure = await walkMime(input.spoolPath, { tempDir, budget, wantSpill: (part) => shouldSpill(part, policy) });
  } catch (err) {
    if (!(err instanceof InspectionLimitError)) throw err;
    const empty: MimeStructure = { parts: [], problems: [], complete: true };
    const limit = err.bomb
      ? checkResult('banned', 'fail', `archive bomb: an attachment ${err.message}`)
      : checkResult('unchecked', 'fail', `an attachment ${err.message}, inspection stopped`);
    return [limit, checkHeaders(input.head, empty)];
  }
  const [banned, unchecked] = await checkBanned(structure, policy, budget, context);
  return [banned, ...(unchecked.result === 'fail' ? [unchecked] : []), checkHeaders(input.head, structure)];
}

async function authCheck(input: ScanInput, settings: AuthSettings): Promise<CheckResult> {
  const { envelope } = input;
  if (!envelope) return checkResult('auth', 'skip', 'no client address known');
  // Our own users' mail (outgoing or internal): nothing in the decision needs SPF, DKIM, DMARC or
  // ARC for it, and a DMARC fail of our own domain from an inside host must not hold it. As rspamd
  // does for local networks, it is not checked; a bounce asks SPF then (spfSenderAuth).
  if (settings.inside(envelope.clientAddress))
    return checkResult('auth', 'skip', `client ${envelope.clientAddress} is inside the allowed networks: not checked`, {
      auth: { verdict: null, senderAuth: 'unknown', rows: [], inside: true },
    });
  try {
    const facts = await gatherAuth({ spoolPath: input.spoolPath, head: input.head, bytes: input.bytes ?? null }, envelope, settings);
    return judgeAuth(facts, {
      ourDomains: settings.ourDomains,
      clientInside: settings.inside(envelope.clientAddress),
      clientAddress: envelope.clientAddress,
      mailFrom: envelope.mailFrom,
      trustedSealers: settings.trustedSealers,
    });
  } catch (err) {
    return checkResult('auth', 'error', `sender authentication failed: ${(err as Error).message}`);
  }
}

const skipped = (check: CheckName) => Promise.resolve(checkResult(check, 'skip', 'check turned off (filter.checks)'));

export async function scanMessage(input: ScanInput, settings: ScanSettings): Promise<CheckResult[]> {
  const on = (check: CheckName) => settings.checks.includes(check);
  const content =
    on('banned') || on('headers')
      ? contentChecks(input, settings).catch((err: Error) => [
          checkResult('banned', 'error', `attachment inspection failed: ${err.message}`),
          checkResult('headers', 'error', 'not checked: attachment inspection failed'),
        ])
      : Promise.resolve([]);
  const [virus, spam, auth, others] = await Promise.all([
    on('virus') ? checkVirus(settings.clamd, input.spoolPath) : skipped('virus'),
    on('spam') ? checkSpam(settings.spamd, input.spoolPath, input.size, settings.policy) : skipped('spam'),
    on('auth') && settings.auth ? authCheck(input, settings.auth) : skipped('auth'),
    content,
  ]);
  // Unchecked content is found by the banned check's decoders: it is on when that check is.
  return [virus, spam, auth, ...others.filter((r) => on(r.check === 'unchecked' ? 'banned' : r.check))];
}
