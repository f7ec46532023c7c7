// Changes to the allow and block lists typed on the lists page, each written to the audit log. (The
// entries made from a message, "not spam" and "block sender", are quarantine actions.)
import { listNameOf, listOwnerOf, type ListEntry, type ListKind } from '../lists/sender-lists.js';
import type { ActionDeps } from './services.js';
import type { Actor } from './quarantine-actions.js';
import { utcDay } from '../time/utc.js';

/** Adds a checked pattern to the actor's list: their own, or the global one for the administrator. */
export async function addListEntry(
  services: ActionDeps,
  actor: Actor,
  input: { kind: ListKind; pattern: string; expiresAt: number | null },
): Promise<ListEntry> {
  const entry = await services.lists.add({ ownerId: listOwnerOf(actor.user), ...input, createdBy: actor.user.username });
  await services.audit.record({
    actor: actor.user.username,
    action: 'list-add',
    detail: `${entry.pattern} on ${listNameOf(entry)} ${entry.kind} list${input.expiresAt ? ` until ${utcDay(input.expiresAt)}` : ''}`,
    client: actor.client,
  });
  return entry;
}

/** Removes an entry of the actor's own list (any, for the administrator); undefined when there is none such. */
export async function removeListEntry(services: ActionDeps, actor: Actor, entryId: number): Promise<ListEntry | undefined> {
  const entry = await services.lists.get(entryId);
  if (!entry || (!actor.user.isAdmin && entry.ownerId !== actor.user.id)) return undefined;
  await services.lists.remove(entry.id);
  await services.audit.record({
    actor: actor.user.username,
    action: 'list-remove',
    detail: `${entry.pattern} off ${listNameOf(entry)} ${entry.kind} list`,
    client: actor.client,
  });
  return entry;
}
