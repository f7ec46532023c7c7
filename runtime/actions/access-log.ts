// Reading a quarantined message changes nothing, but who read or downloaded what is audited too
// (a virus download says it was confirmed).
import type { QuarantineEntry } from '../quarantine/store.js';
import type { ActionDeps } from './services.js';
import type { Actor } from './quarantine-actions.js';

export async function messageViewed(services: ActionDeps, actor: Actor, entry: QuarantineEntry): Promise<void> {
  await services.audit.record({ actor: actor.user.username, action: 'view', messageId: entry.id, client: actor.client });
}

export async function messageDownloaded(services: ActionDeps, actor: Actor, entry: QuarantineEntry): Promise<void> {
  await services.audit.record({
    actor: actor.user.username,
    action: 'download',
    messageId: entry.id,
    detail: entry.reason === 'VIRUS' ? `${entry.detail}; virus download confirmed` : '',
    client: actor.client,
  });
}
