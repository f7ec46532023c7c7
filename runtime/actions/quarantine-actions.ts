// What a user (or the administrator) can do to a quarantined message, the same whether it comes
// from the viewer or from a digest link: release (or ask for it), "not spam", block the sender,
// delete; and the administrator's answer to a release request. Each one is written to the audit log.
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { Readable } from 'node:stream';
import { notReleasedTo, type QuarantineEntry } from '../quarantine/store.js';
import { releaseMessage } from '../quarantine/release.js';
import { tellSpamd } from '../checks/spam.js';
import { listNameOf, listOwnerOf, normalisePattern, sendersOf } from '../lists/sender-lists.js';
import type { ViewerUser } from '../accounts/viewer-accounts.js';
import type { ReleaseRequest } from './release-requests.js';
import { viewerBaseUrl, type ActionDeps } from './services.js';
import type { LinkAction } from './tokens.js';
import { viaLink } from './audit.js';
import { subjectShown, senderShown } from '../quarantine/display.js';
import type { Category } from '../config/schema.js';

export interface Actor {
  user: ViewerUser;
  /** The client's address. */
  client: string;
  /** How the action came: through the viewer, or a link in a digest. */
  via: 'viewer' | 'digest link';
}

export type ActionOutcome = 'released' | 'already-released' | 'requested' | 'not-spam' | 'blocked' | 'deleted';

export interface ActionOptions {
  /** Release again to recipients who already had it released (the user confirmed a second copy). */
  again?: boolean;
}

export interface ActionResult {
  outcome: ActionOutcome;
  /** What to tell the user, in a sentence. */
  text: string;
}

/** An action that did not happen, with the reason in words for the user. */
export class ActionFailed extends Error {}

const actorName = (actor: Actor) => (actor.via === 'viewer' ? actor.user.username : viaLink(actor.user.username));

/** The addresses of this message the actor acts for: all for the administrator, else their own. */
export function recipientsFor(user: ViewerUser, entry: QuarantineEntry): string[] {
  return user.isAdmin ? entry.recipients : entry.recipients.filter((r) => user.addresses.includes(r));
}

/** `selfRelease`: the categories users release themselves (the administrator's settings). */
export function maySelfRelease(selfRelease: readonly Category[], user: ViewerUser, entry: QuarantineEntry): boolean {
  return user.isAdmin || selfRelease.includes(entry.reason);
}

/** An exact address a list entry may be made for; `*@domain` is a legal From: but never one. */
const isExactAddress = (sender: string) => !sender.startsWith('*') && normalisePattern(sender) === sender;

/**
 * The sender a list entry is made for from a message: the From: address people see, else the
 * envelope sender, and only ever one exact address. Wildcards are typed on the lists page only.
 */
export function listSenderOf(entry: QuarantineEntry): string {
  const senders = sendersOf(entry.mailFrom, entry.headerFrom).filter(isExactAddress);
  return senders.find((s) => entry.headerFrom.toLowerCase().includes(s)) ?? senders[0] ?? '';
}

/**
 * The fetcher's REFUSED copies are what Postfix refused (too big, a sender it rejects): they never
 * passed the scan, and a release re-injects past the filter. They are looked at, not released.
 */
export const RELEASABLE = (entry: QuarantineEntry) => (entry.reason as string) !== 'REFUSED';

async function deliverRelease(services: ActionDeps, entry: QuarantineEntry, recipients: string[], by: string): Promise<void> {
  if (!RELEASABLE(entry)) {
    throw new ActionFailed(
      `Postfix refused this message (${entry.detail}), so it was never scanned and cannot be released. Download it to look at it, or ask the sender to send it again.`,
    );
  }
  const outcomes = await releaseMessage(services.store, entry, recipients, services.reinjector, by);
  const failed = outcomes.filter((o) => o.code >= 300);
  if (failed.length === outcomes.length) {
    throw new ActionFailed(`The mail server did not take the message (${failed[0]?.response ?? 'no answer'}). It stays in the quarantine; try again later.`);
  }
}

export async function release(services: ActionDeps, actor: Actor, entry: QuarantineEntry, options: ActionOptions = {}): Promise<ActionResult> {
  const own = recipientsFor(actor.user, entry);
  if (!maySelfRelease((await services.settings.admin()).selfRelease, actor.user, entry)) {
    const { isNew } = await services.requests.request(entry.id, actor.user.id, own);
    if (isNew) {
      const told = await tellAdministrator(services, actor, entry, own);
      await services.audit.record({
        actor: actorName(actor),
        action: 'request',
        messageId: entry.id,
        detail: `${entry.reason}: ${entry.detail}; for ${own.join(', ')}${told}`,
        client: actor.client,
      });
    }
    return {
      outcome: 'requested',
      text: `Messages quarantined as ${entry.reason} are released by the administrator. Your request was sent; you will get an e-mail when it is decided.`,
    };
  }
  // Each recipient's copy is released once; another copy only when the user said so.
  const waiting = notReleasedTo(entry, own);
  const recipients = waiting.length > 0 ? waiting : options.again ? own : [];
  if (recipients.length === 0) return { outcome: 'already-released', text: `This message was already released to ${own.join(', ')}.` };
  await deliverRelease(services, entry, recipients, actorName(actor));
  await services.audit.record({
    actor: actorName(actor),
    action: 'release',
    messageId: entry.id,
    detail: `to ${recipients.join(', ')}${waiting.length === 0 ? ' (another copy, confirmed)' : ''}`,
    client: actor.client,
  });
  return { outcome: 'released', text: 'Released: the message is on its way.' };
}

export async function notSpam(services: ActionDeps, actor: Actor, entry: QuarantineEntry, options: ActionOptions = {}): Promise<ActionResult> {
  if (entry.reason !== 'SPAM') throw new ActionFailed(`This message was quarantined as ${entry.reason}, not as spam.`);
  // Already released: no second copy unasked, but it is still learned and allowed.
  const released = await release(services, actor, entry, options);
  let learned: string;
  try {
    const file = await services.store.localFile(entry);
    try {
      learned = `learned as ham: ${await tellSpamd(services.config.spamd, file.path, 'ham')}`;
    } finally {
      await file.done();
    }
  } catch (err) {
    learned = `not learned: ${(err as Error).message}`;
  }
  const sender = listSenderOf(entry);
  const allowed = sender
    ? await services.lists.add({ ownerId: listOwnerOf(actor.user), kind: 'allow', pattern: sender, expiresAt: null, createdBy: actorName(actor) })
    : null;
  await services.audit.record({
    actor: actorName(actor),
    action: 'not-spam',
    messageId: entry.id,
    client: actor.client,
    detail: `${released.outcome}; ${learned}; ${allowed ? `${allowed.pattern} added to ${listNameOf(allowed)} allow list` : 'no sender address to allow'}`,
  });
  return { outcome: 'not-spam', text: `${released.text} ${allowed ? `Mail from ${allowed.pattern} will no longer be treated as spam.` : ''}`.trim() };
}

export async function blockSender(services: ActionDeps, actor: Actor, entry: QuarantineEntry): Promise<ActionResult> {
  const sender = listSenderOf(entry);
  if (!sender) throw new ActionFailed('This message has no sender address to block.');
  const blocked = await services.lists.add({ ownerId: listOwnerOf(actor.user), kind: 'block', pattern: sender, expiresAt: null, createdBy: actorName(actor) });
  await removeFor(services, actor, entry);
  await services.audit.record({
    actor: actorName(actor),
    action: 'block-sender',
    messageId: entry.id,
    detail: `${blocked.pattern} added to ${listNameOf(blocked)} block list; message deleted`,
    client: actor.client,
  });
  return { outcome: 'blocked', text: `Mail from ${blocked.pattern} will be discarded from now on. This message was deleted.` };
}

/**
 * Allows the sender and releases the message. Spam is "Not spam" (learned as ham too); for any
 * other reason the entry only lifts a later spam verdict, and the release may become a request.
 */
export async function allowSender(services: ActionDeps, actor: Actor, entry: QuarantineEntry, options: ActionOptions = {}): Promise<ActionResult> {
  if (entry.reason === 'SPAM') return notSpam(services, actor, entry, options);
  const sender = listSenderOf(entry);
  if (!sender) throw new ActionFailed('This message has no sender address to allow.');
  const released = await release(services, actor, entry, options);
  const allowed = await services.lists.add({ ownerId: listOwnerOf(actor.user), kind: 'allow', pattern: sender, expiresAt: null, createdBy: actorName(actor) });
  await services.audit.record({
    actor: actorName(actor),
    action: 'allow-sender',
    messageId: entry.id,
    detail: `${released.outcome}; ${allowed.pattern} added to ${listNameOf(allowed)} allow list`,
    client: actor.client,
  });
  return { outcome: released.outcome, text: `${released.text} Mail from ${allowed.pattern} will no longer be treated as spam.` };
}

async function removeFor(services: ActionDeps, actor: Actor, entry: QuarantineEntry): Promise<void> {
  if (actor.user.isAdmin) await services.store.delete(entry.id);
  else await services.store.removeRecipients(entry.id, recipientsFor(actor.user, entry));
}

export async function remove(services: ActionDeps, actor: Actor, entry: QuarantineEntry): Promise<ActionResult> {
  await removeFor(services, actor, entry);
  await services.audit.record({
    actor: actorName(actor),
    action: 'delete',
    messageId: entry.id,
    detail: actor.user.isAdmin ? 'whole message' : `for ${recipientsFor(actor.user, entry).join(', ')}`,
    client: actor.client,
  });
  return { outcome: 'deleted', text: 'Deleted.' };
}

/** A short notice from the appliance (null sender: never bounced back); throws when nobody took it. */
async function sendNotice(services: ActionDeps, to: string[], subject: string, text: string): Promise<void> {
  const raw = await new MailComposer({
    from: `Mail filter <postmaster@${services.config.network.hostname}>`,
    to,
    subject,
    text,
    headers: { 'Auto-Submitted': 'auto-generated' },
  })
    .compile()
    .build();
  const outcomes = await services.reinjector.send('', to, Readable.from([raw]));
  if (outcomes.every((o) => o.code >= 300)) throw new Error(outcomes[0]?.response ?? 'no answer');
}

function tellRequester(services: ActionDeps, request: ReleaseRequest, entry: QuarantineEntry | undefined, approved: boolean): Promise<void> {
  const subject = subjectShown(entry);
  const text = approved
    ? `Your request to release the message "${subject}" (${request.messageId}) was approved. The message has been delivered to ${request.recipients.join(', ')}.\n`
    : `Your request to release the message "${subject}" (${request.messageId}) was denied by the administrator. The message stays in the quarantine.\n`;
  return sendNotice(services, request.recipients, `Release request ${approved ? 'approved' : 'denied'}: ${subject}`, text);
}

/** The administrator hears of a new request when an address is configured; the console lists them anyway. */
async function tellAdministrator(services: ActionDeps, actor: Actor, entry: QuarantineEntry, recipients: string[]): Promise<string> {
  const to = services.config.viewer.adminEmail;
  if (!to) return '';
  try {
    await sendNotice(
      services,
      [to],
      `Release request from ${actor.user.username}: ${subjectShown(entry)}`,
      `${actor.user.username} asks for the message "${subjectShown(entry)}" from ${senderShown(entry)} to be released to ${recipients.join(', ')}.\n` +
        `It was quarantined as ${entry.reason}: ${entry.detail}\n\nApprove or deny it at ${viewerBaseUrl(services.config)}/admin/requests\n`,
    );
    return `; ${to} told`;
  } catch (err) {
    return `; ${to} not told: ${(err as Error).message}`;
  }
}

export async function decideRequest(services: ActionDeps, admin: Actor, requestId: number, approve: boolean): Promise<string> {
  const request = await services.requests.get(requestId);
  if (!request || request.status !== 'pending') throw new ActionFailed('This request was already decided or does not exist.');
  const entry = await services.store.get(request.messageId);
  if (approve && !entry) throw new ActionFailed('The message is no longer in the quarantine (deleted, or aged out); deny the request instead.');
  if (!(await services.requests.decide(request.id, approve ? 'approved' : 'denied', admin.user.username)))
    throw new ActionFailed('This request was already decided.');
  if (approve && entry) {
    try {
      await deliverRelease(services, entry, request.recipients, `${admin.user.username} (request of ${request.username})`);
    } catch (err) {
      await services.requests.reopen(request.id);
      throw err;
    }
  }
  let told = `${request.username} told by e-mail`;
  try {
    await tellRequester(services, request, entry, approve);
  } catch (err) {
    told = `${request.username} not told: ${(err as Error).message}`;
  }
  await services.audit.record({
    actor: admin.user.username,
    action: approve ? 'approve' : 'deny',
    messageId: request.messageId,
    detail: `request ${request.id} of ${request.username} for ${request.recipients.join(', ')}; ${told}`,
    client: admin.client,
  });
  return approve ? `Approved: the message was released to ${request.recipients.join(', ')}.` : 'Denied: the message stays in the quarantine.';
}

/** The actions on one message, by the name the viewer's buttons and the digest links use. */
export const MESSAGE_ACTIONS: Record<
  LinkAction,
  (services: ActionDeps, actor: Actor, entry: QuarantineEntry, options?: ActionOptions) => Promise<ActionResult>
> = {
  release,
  'not-spam': notSpam,
  'block-sender': blockSender,
  delete: remove,
};
