// Actions on many messages at once: the selected ones, all of a user's, or the whole quarantine.
// Each message goes through the same action as a single click (same permissions, same audit
// line), so a bulk release of a virus is a request, and a user reaches only their own copies.
import type { QuarantineEntry } from '../quarantine/store.js';
import { logger } from '../log.js';
import type { ActionDeps } from './services.js';
import {
  ActionFailed,
  allowSender,
  blockSender,
  recipientsFor,
  release,
  remove,
  type ActionOutcome,
  type ActionResult,
  type Actor,
} from './quarantine-actions.js';

const log = logger('actions');

export const BULK_ACTIONS = { release, allow: allowSender, block: blockSender, delete: remove } satisfies Record<
  string,
  (services: ActionDeps, actor: Actor, entry: QuarantineEntry) => Promise<ActionResult>
>;
export type BulkAction = keyof typeof BULK_ACTIONS;

export const isBulkAction = (value: string | undefined): value is BulkAction => value !== undefined && Object.hasOwn(BULK_ACTIONS, value);

/** More than a page of the largest size, fewer than a body limit's worth of ids. */
export const MAX_BULK_MESSAGES = 500;

export interface BulkItem {
  id: string;
  entry?: QuarantineEntry;
  outcome: ActionOutcome | 'not-found' | 'failed';
  text: string;
}

/**
 * The messages of these ids the actor may act on, once each, in the order given. Others' messages
 * and unknown ids are left out alike, as the single actions answer both with the same 404.
 */
export async function ownEntries(services: ActionDeps, actor: Actor, ids: string[]): Promise<QuarantineEntry[]> {
  const entries: QuarantineEntry[] = [];
  for (const id of [...new Set(ids)].slice(0, MAX_BULK_MESSAGES)) {
    const entry = await services.store.get(id);
    if (entry && recipientsFor(actor.user, entry).length > 0) entries.push(entry);
  }
  return entries;
}

/** Runs the action on each message; one that fails does not stop the others. */
export async function applyToMessages(services: ActionDeps, actor: Actor, action: BulkAction, ids: string[]): Promise<BulkItem[]> {
  const items: BulkItem[] = [];
  for (const id of [...new Set(ids)].slice(0, MAX_BULK_MESSAGES)) {
    // Read again just before acting: an earlier one of the batch may have changed it.
    const [entry] = await ownEntries(services, actor, [id]);
    if (!entry) {
      items.push({ id, outcome: 'not-found', text: 'No such message in your quarantine.' });
      continue;
    }
    try {
      const result = await BULK_ACTIONS[action](services, actor, entry);
      items.push({ id, entry, outcome: result.outcome, text: result.text });
    } catch (err) {
      if (!(err instanceof ActionFailed)) log.error('bulk action failed', { action, id, error: (err as Error).message });
      items.push({
        id,
        entry,
        outcome: 'failed',
        text: err instanceof ActionFailed ? err.message : 'Something went wrong on the appliance; the details are in its log.',
      });
    }
  }
  return items;
}

/** Deletes every copy addressed to the user, each audited, then one line for the whole. */
export async function deleteAllOwn(services: ActionDeps, actor: Actor): Promise<number> {
  const entries = await services.store.list({ addresses: actor.user.addresses, limit: 1_000_000 });
  for (const entry of entries) await remove(services, actor, entry);
  await services.audit.record({
    actor: actor.user.username,
    action: 'delete-all',
    detail: `${entries.length} message(s) for ${actor.user.addresses.join(', ')}`,
    client: actor.client,
  });
  return entries.length;
}

/** The administrator empties the quarantine: one audit line, as one decision. */
export async function clearQuarantine(services: ActionDeps, actor: Actor): Promise<number> {
  const count = await services.store.deleteMatching({});
  await services.audit.record({ actor: actor.user.username, action: 'clear', detail: `${count} message(s)`, client: actor.client });
  return count;
}
