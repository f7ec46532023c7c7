// One message's path after it is spooled: scan, decide, then deliver or quarantine (and bounce),
// ending in one SMTP answer per recipient. 250 is only ever answered once the next hop accepted the
// message or its quarantine copy is fsync'd; any failure on the way is a 4xx and Postfix retries.
import { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import type { AppConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { QuarantineStore } from '../quarantine/store.js';
import { writeHeldCopy } from './held-copy.js';
import { authservIdOf } from '../checks/auth-results.js';
import { spfSenderAuth } from '../checks/auth.js';
import { applyListMatch, decide, noBounceReason, senderAuthOf, type Verdict } from './decide.js';
import type { SenderListLookup } from '../lists/lookup.js';
import { sendersOf } from '../lists/sender-lists.js';
import { decodedHeader, headOf, readHead, type MessageHead } from '../mail/message-head.js';
import { authenticationResults, deliveryHead } from './rewrite.js';
import { buildBounce } from './bounce.js';
import { scanMessage, type AuthSettings, type ScanSettings } from './scan.js';
import type { AuditSink } from './audit-sink.js';
import type { DkimSigner } from './dkim-sign.js';
import { SmtpReply, tempFail } from './smtp-reply.js';
import type { RecipientOutcome, Reinjector } from '../mail/reinject.js';
import { messageKey, settleSpamTimeout, type SpamTimeouts } from './spam-timeouts.js';

export interface Envelope {
  mailFrom: string;
  rcptTo: string[];
  clientAddress: string;
  heloName: string;
}

export interface SpooledMessage {
  id: string;
  path: string;
  size: number;
  /** The whole message when it is small; null when it is only in the spool file. */
  bytes: Buffer | null;
  receivedAt: Date;
  envelope: Envelope;
}

export interface FilterDeps {
  config: AppConfig;
  store: QuarantineStore;
  reinjector: Reinjector;
  log: Logger;
  /** The allow/block lists; each recipient's own entries and the global ones. */
  senderLists: SenderListLookup;
  /** Spam-check timeouts per message, kept across restarts. */
  spamTimeouts: SpamTimeouts;
  /** The auth check's resolver and context, made once (authSettings); without it the check is skipped. */
  auth?: AuthSettings;
  /** The audit log, for list entries that let forged-looking mail through. */
  audit?: AuditSink;
  /** Signs our own outgoing mail (dkim.enabled). */
  dkim?: DkimSigner;
}

/** A reply for every recipient, in envelope order; a string is a success text. */
export type RecipientReplies = Array<string | SmtpReply>;

export function scanSettings(config: AppConfig, auth?: AuthSettings): ScanSettings {
  return { checks: config.filter.checks, clamd: config.clamd, spamd: config.spamd, policy: config.policy, ...(auth ? { auth } : {}) };
}

function mailDomain(config: AppConfig): string {
  return config.mail.externalDomain || config.network.hostname.split('.').slice(1).join('.') || config.network.hostname;
}

/** An allow entry let a message that looked forged through: the administrator can see who and why. */
async function auditOverride(message: SpooledMessage, recipients: string[], before: Verdict, after: Verdict, deps: FilterDeps): Promise<void> {
  const detail = `SPOOFED overridden for ${recipients.join(', ')} by ${after.listNote ?? 'a sender list'}: ${before.detail}`;
  deps.log.info('spoofed overridden', { id: message.id, to: recipients.join(','), note: after.listNote, category: after.category });
  try {
    await deps.audit?.({ actor: 'system', action: 'allow-list override', messageId: message.id, detail, client: 'appliance' });
  } catch (err) {
    deps.log.warn('override not audited', { id: message.id, error: (err as Error).message });
  }
}

function messageStream(head: Buffer, message: SpooledMessage, bodyOffset: number): Readable {
  const { bytes, path } = message;
  if (bytes) return Readable.from([head, bytes.subarray(bodyOffset)]);
  return Readable.from(
    (async function* () {
      yield head;
      yield* createReadStream(path, { start: bodyOffset });
    })(),
  );
}

export function nextHopReply(outcome: RecipientOutcome, id: string): string | SmtpReply {
  const said = outcome.response.replace(/[\r\n]+/g, ' ').slice(0, 300);
  if (outcome.code >= 200 && outcome.code < 300) return `2.0.0 Ok: ${id} delivered to next hop (${said})`;
  if (outcome.code >= 500) return new SmtpReply(550, `5.0.0 Next hop refused ${id}: ${said}`);
  return new SmtpReply(451, `4.4.0 Next hop deferred ${id}: ${said}, try again later`);
}

/** The From: address's domain, lower-case ('' without one). */
function fromDomainOf(head: MessageHead): string {
  const from = decodedHeader(head, 'From');
  const domains = [...from.matchAll(/@([a-z0-9.-]+[a-z0-9])/gi)];
  return domains.length === 1 ? domains[0]![1]!.toLowerCase() : '';
}

/** Our own outgoing mail gets its DKIM signature on top of the head it is delivered with. */
async function signed(newHead: Buffer, message: SpooledMessage, head: MessageHead, deps: FilterDeps): Promise<Buffer> {
  const { dkim } = deps;
  if (!dkim || !dkim.applies(fromDomainOf(head), message.envelope.clientAddress)) return newHead;
  const signature = await dkim.sign(messageStream(newHead, message, head.bodyOffset));
  const eol = head.raw.includes('\r\n') || head.raw.length === 0 ? '\r\n' : '\n';
  return Buffer.concat([Buffer.from(signature.replace(/\r?\n/g, eol), 'latin1'), newHead]);
}

/** What one group's delivery or quarantine works on: the message, the verdict for these recipients, and the quarantine id it takes if held. */
interface GroupJob {
  message: SpooledMessage;
  head: MessageHead;
  verdict: Verdict;
  recipients: string[];
  id: string;
}

async function deliver({ message, head, verdict, recipients }: GroupJob, deps: FilterDeps): Promise<RecipientReplies> {
  const { config, reinjector, log } = deps;
  const newHead = deliveryHead(head, verdict, {
    scannedBy: `${config.filter.productName} at ${mailDomain(config)}`,
    spamLevel: config.policy.spamLevel,
    subjectTag: verdict.category === 'UNCHECKED' ? config.policy.uncheckedSubjectTag : config.policy.spamSubjectTag,
    authservId: authservIdOf(config),
  });
  const top = await signed(newHead, message, head, deps);
  const outcomes = await reinjector.send(message.envelope.mailFrom, recipients, messageStream(top, message, head.bodyOffset));
  for (const outcome of outcomes) {
    log.info('delivery', { id: message.id, to: outcome.recipient, code: outcome.code, response: outcome.response.slice(0, 200) });
  }
  return outcomes.map((outcome) => nextHopReply(outcome, message.id));
}

async function quarantine(job: GroupJob, deps: FilterDeps): Promise<RecipientReplies> {
  const { message, head, verdict, recipients, id } = job;
  const { store, log } = deps;
  const reason = verdict.category;
  if (reason === 'CLEAN') throw new Error('a clean message is never quarantined');
  const { mailFrom } = message.envelope;
  // The held copy carries our Authentication-Results on top: the viewer shows them, a release delivers them.
  const header = authenticationResults(verdict, authservIdOf(deps.config), head.raw.includes('\r\n') ? '\r\n' : '\n');
  await writeHeldCopy(message.path, header, (heldPath) =>
    store.add(heldPath, {
      id,
      receivedAt: message.receivedAt,
      mailFrom,
      recipients,
      headerFrom: decodedHeader(head, 'From'),
      headerTo: decodedHeader(head, 'To'),
      subject: decodedHeader(head, 'Subject'),
      reason,
      detail: verdict.detail,
      size: message.size,
    }),
  );
  log.info('quarantined', { id, to: recipients.join(','), reason: verdict.category, destiny: verdict.destiny, detail: verdict.detail });

  if (verdict.destiny === 'D_BOUNCE') {
    // The message itself is safe on disk; a notice that cannot be sent is logged, not retried.
    await sendBounce(job, deps).catch((err: Error) => log.error('bounce not sent', { id, to: mailFrom, error: err.message }));
  }
  return recipients.map(() => `2.7.0 Ok: ${id} quarantined (${verdict.category})`);
}

async function sendBounce({ message, head, verdict, recipients, id }: GroupJob, deps: FilterDeps): Promise<void> {
  const { config, reinjector, log } = deps;
  const sender = message.envelope.mailFrom;
  const auth = verdict.results.find((r) => r.check === 'auth')?.auth;
  // Mail from inside was not checked: its sender's SPF is asked now, for the rare notice only.
  const senderAuth =
    auth?.inside && deps.auth
      ? await spfSenderAuth({ clientAddress: message.envelope.clientAddress, heloName: message.envelope.heloName, mailFrom: sender }, deps.auth)
      : senderAuthOf(verdict.results);
  const why = noBounceReason(verdict, sender, config.policy, senderAuth);
  if (why !== null) {
    log.info('bounce suppressed', { id, why });
    return;
  }
  const dsn = buildBounce({
    reportingHost: config.network.hostname,
    sender,
    recipients,
    verdict,
    quarantineId: id,
    arrivalDate: message.receivedAt,
    originalHead: head.raw,
  });
  const [outcome] = await reinjector.send('', [sender], Readable.from([dsn]));
  if (outcome && outcome.code < 300) log.info('bounce sent', { id, to: sender });
  else log.error('bounce not sent', { id, to: sender, code: outcome?.code, response: outcome?.response });
}

interface RecipientGroup {
  verdict: Verdict;
  /** Positions in the envelope, so replies come back in envelope order. */
  positions: number[];
}

/** Recipients whose lists lead to the same verdict travel together: one delivery, one quarantine entry. */
function groupByVerdict(verdicts: Verdict[]): RecipientGroup[] {
  const groups = new Map<string, RecipientGroup>();
  verdicts.forEach((verdict, position) => {
    const key = `${verdict.category}|${verdict.destiny}|${verdict.listNote ?? ''}`;
    const group = groups.get(key) ?? { verdict, positions: [] };
    group.positions.push(position);
    groups.set(key, group);
  });
  return [...groups.values()];
}

/**
 * One group's delivery or quarantine, answered on its own: a failure here is a 4xx for this group's
 * recipients only, so the groups already delivered keep their 250 and Postfix sends them nothing twice.
 */
async function answerGroup(job: GroupJob, deps: FilterDeps): Promise<RecipientReplies> {
  const { verdict, recipients, id } = job;
  try {
    return verdict.destiny === 'D_PASS' ? await deliver(job, deps) : await quarantine(job, deps);
  } catch (err) {
    const error = err as Error;
    const action = verdict.destiny === 'D_PASS' ? 'delivered' : 'quarantined';
    const why = error.message.replace(/[\r\n]+/g, ' ').slice(0, 200);
    deps.log.error('group failed', { id, to: recipients.join(','), category: verdict.category, destiny: verdict.destiny, error: why });
    return recipients.map(() => tempFail('4.3.0', `${id} could not be ${action} (${why})`));
  }
}

export async function filterMessage(message: SpooledMessage, deps: FilterDeps): Promise<RecipientReplies> {
  const { config, log, store } = deps;
  const started = Date.now();
  const head = message.bytes ? headOf(message.bytes) : await readHead(message.path);
  const { clientAddress, heloName, mailFrom } = message.envelope;
  const scanned = await scanMessage(
    { spoolPath: message.path, size: message.size, head, bytes: message.bytes, envelope: { clientAddress, heloName, mailFrom } },
    scanSettings(config, deps.auth),
  );
  const key = messageKey(head, message.size);
  const { results, tries, givenUp } = settleSpamTimeout(scanned, key, deps.spamTimeouts, config.spamd.maxTimeouts);
  if (givenUp)
    log.warn('spam check given up', { id: message.id, message: key, timeouts: tries, why: 'spamd timed out on every try; decided without a spam verdict' });
  const verdict = decide(results, config.policy);
  // The auth check's words also when it passed: what each method said, an ARC override.
  const checks = Object.fromEntries(
    results.map((r) => [r.check, `${r.result}${r.result === 'pass' && r.check !== 'auth' ? '' : `(${r.detail.slice(0, 240)})`}`]),
  );

  if (verdict.kind === 'postpone') {
    log.warn('postponed', { id: message.id, why: verdict.why, ...checks });
    return message.envelope.rcptTo.map(() => tempFail('4.3.0', `${message.id} not scanned: ${verdict.why}`));
  }
  log.info('decided', {
    id: message.id,
    from: message.envelope.mailFrom || '<>',
    to: message.envelope.rcptTo.join(','),
    client: message.envelope.clientAddress,
    size: message.size,
    category: verdict.category,
    destiny: verdict.destiny,
    detail: verdict.detail,
    ...checks,
    ms: Date.now() - started,
  });
  const senders = sendersOf(message.envelope.mailFrom, decodedHeader(head, 'From'));
  const ownDomains = deps.auth?.ourDomains ?? [];
  const matches = await Promise.all(message.envelope.rcptTo.map((recipient) => deps.senderLists(recipient, senders)));
  const groups = groupByVerdict(matches.map((match) => applyListMatch(verdict, match, config.policy, ownDomains)));
  const replies: RecipientReplies = new Array(message.envelope.rcptTo.length);
  let quarantined = 0;
  for (const group of groups) {
    const recipients = group.positions.map((p) => message.envelope.rcptTo[p]!);
    if (group.verdict.listNote)
      log.info('sender list', {
        id: message.id,
        to: recipients.join(','),
        note: group.verdict.listNote,
        category: group.verdict.category,
        destiny: group.verdict.destiny,
      });
    if (verdict.category === 'SPOOFED' && group.verdict.category !== 'SPOOFED') await auditOverride(message, recipients, verdict, group.verdict, deps);
    const id = quarantined === 0 ? message.id : `${message.id}-${quarantined + 1}`;
    if (group.verdict.destiny !== 'D_PASS') quarantined += 1;
    const groupReplies = await answerGroup({ message, head, verdict: group.verdict, recipients, id }, deps);
    group.positions.forEach((position, i) => (replies[position] = groupReplies[i]!));
  }
  try {
    if (groups[0]) store.recordOutcome(groups[0].verdict.category);
  } catch (err) {
    log.warn('statistics not recorded', { id: message.id, error: (err as Error).message });
  }
  return replies;
}
