// Changes to the digest and release settings, each written to the audit log: the administrator's
// defaults for everyone, and a user's own digest frequency.
import type { ActionDeps } from './services.js';
import type { Actor } from './quarantine-actions.js';
import type { AdminSettings, DigestFrequency } from './settings.js';

export async function saveAdminSettings(services: ActionDeps, admin: Actor, settings: AdminSettings): Promise<void> {
  await services.settings.saveAdmin(settings);
  await services.audit.record({
    actor: admin.user.username,
    action: 'settings',
    detail: `digest ${settings.digestFrequency}; users release ${settings.selfRelease.join(', ') || 'nothing'} themselves`,
    client: admin.client,
  });
}

/** A user's own digest frequency; null follows the administrator's default. */
export async function setOwnDigest(services: ActionDeps, actor: Actor, frequency: DigestFrequency | null): Promise<void> {
  await services.settings.setUserFrequency(actor.user.id, frequency);
  await services.audit.record({ actor: actor.user.username, action: 'digest-setting', detail: frequency ?? 'default', client: actor.client });
}
