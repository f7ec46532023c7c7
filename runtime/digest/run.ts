// `mailfilter digest`: run hourly by a timer; sends each viewer user whose digest is due a list of
// what was quarantined for their addresses since their last one. Nothing is sent when nothing was
// held. A digest goes to the user's first address, through Postfix's re-injection listener.
import { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import type { ViewerUser } from '../accounts/viewer-accounts.js';
import type { ActionDeps } from '../actions/services.js';
import { viewerBaseUrl } from '../actions/services.js';
import { maySelfRelease, recipientsFor } from '../actions/quarantine-actions.js';
import type { LinkAction } from '../actions/tokens.js';
import type { DigestFrequency } from '../actions/settings.js';
import type { Category } from '../config/schema.js';
import { composeDigest, type DigestItem } from './compose.js';
import { isBlockedNote } from '../lists/sender-lists.js';

const DAY = 86400_000;
const PERIOD: Record<Exclude<DigestFrequency, 'off'>, number> = { daily: DAY, weekly: 7 * DAY };
/** A digest a little early beats one a whole period late when the timer drifts. */
const SLACK = 3600_000;
const MAX_ITEMS = 500;

export type DigestOutcome = 'sent' | 'empty' | 'not due' | 'off' | 'no address' | 'failed';

export interface DigestReport {
  user: string;
  outcome: DigestOutcome;
  messages: number;
  detail?: string;
}

export function isDue(frequency: DigestFrequency, lastSentAt: number | null, now: Date, sendHour: number): boolean {
  if (frequency === 'off') return false;
  if (now.getHours() < sendHour) return false;
  return lastSentAt === null || now.getTime() - lastSentAt >= PERIOD[frequency] - SLACK;
}

function itemFor(services: ActionDeps, selfRelease: readonly Category[], user: ViewerUser, entry: DigestItem['entry'], expiresAt: number): DigestItem {
  const base = viewerBaseUrl(services.config);
  const link = (action: LinkAction, label: string) => ({
    action,
    label,
    url: `${base}/a/${services.tokens.sign({ action, messageId: entry.id, userId: user.id, expiresAt })}`,
  });
  const links = [link('release', maySelfRelease(selfRelease, user, entry) ? 'Release' : 'Ask to release')];
  if (entry.reason === 'SPAM') links.push(link('not-spam', 'Not spam'));
  links.push(link('block-sender', 'Block sender'), link('delete', 'Delete'));
  return { entry, recipients: recipientsFor(user, entry), links };
}

export async function sendDigest(services: ActionDeps, user: ViewerUser, since: number, now: Date): Promise<DigestReport> {
  const to = user.addresses[0];
  if (!to) return { user: user.username, outcome: 'no address', messages: 0 };
  // Mail from senders on a block list is kept (nothing is lost) but not put before the user again.
  // Released means released to this user: another recipient's release leaves it in their digest.
  const entries = (await services.store.list({ addresses: user.addresses, receivedAfter: since, unreleased: true, limit: MAX_ITEMS })).filter(
    (e) => !isBlockedNote(e.detail),
  );
  if (entries.length === 0) return { user: user.username, outcome: 'empty', messages: 0 };
  const expiresAt = now.getTime() + services.config.digest.linkValidDays * DAY;
  const { selfRelease } = await services.settings.admin();
  const raw = await composeDigest({
    from: `Mail filter quarantine <postmaster@${services.config.network.hostname}>`,
    to,
    username: user.username,
    viewerUrl: viewerBaseUrl(services.config),
    items: entries.map((entry) => itemFor(services, selfRelease, user, entry, expiresAt)),
    linksValidUntil: new Date(expiresAt),
  });
  const [outcome] = await services.reinjector.send('', [to], Readable.from([raw]));
  if (!outcome || outcome.code >= 300) return { user: user.username, outcome: 'failed', messages: entries.length, detail: outcome?.response ?? 'no answer' };
  return { user: user.username, outcome: 'sent', messages: entries.length, detail: to };
}

/** Every user's digest that is due (with force: every user's not turned off); the time of each one sent is kept. */
export async function runDigests(
  services: ActionDeps,
  log: Logger,
  options: { force?: boolean; now?: Date; stillHeld?: () => boolean } = {},
): Promise<DigestReport[]> {
  const now = options.now ?? new Date();
  const reports: DigestReport[] = [];
  for (const user of await services.accounts.list()) {
    if (user.isAdmin) continue;
    // Several appliances: the digest lease was lost (the database out of reach for too long), and
    // another node may be sending now; the users not reached yet are its to send.
    if (options.stillHeld && !options.stillHeld()) {
      log.warn('digest run stopped: this node lost the digest lease', { users_done: reports.length });
      break;
    }
    const frequency = await services.settings.effectiveFrequency(user.id);
    const last = await services.settings.lastDigestAt(user.id);
    let report: DigestReport;
    if (frequency === 'off') report = { user: user.username, outcome: 'off', messages: 0 };
    else if (!options.force && !isDue(frequency, last, now, services.config.digest.sendHour)) report = { user: user.username, outcome: 'not due', messages: 0 };
    else {
      const since = last ?? now.getTime() - PERIOD[frequency];
      try {
        report = await sendDigest(services, user, since, now);
      } catch (err) {
        report = { user: user.username, outcome: 'failed', messages: 0, detail: (err as Error).message };
      }
      // Empty counts as done: the next digest starts from now. A failed one is tried again next hour.
      if (report.outcome === 'sent' || report.outcome === 'empty') await services.settings.setLastDigestAt(user.id, now.getTime());
      if (report.outcome === 'sent')
        await services.audit.record({ actor: 'system', action: 'digest', detail: `${report.messages} message(s) to ${report.detail}`, client: 'appliance' });
    }
    if (report.outcome === 'failed') log.error('digest not sent', { ...report });
    else log.info('digest', { ...report });
    reports.push(report);
  }
  return reports;
}
