// `mailfilter status`: one screen for the admin at the console (also shown at login after setup):
// services, queue, virus database and spam rules, disk, certificate, latest deferrals, the viewer,
// and the DKIM record to publish.
// Facts are gathered apart from the words, so the words are tested without a running appliance.
import { statfsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { AppConfig } from '../config/schema.js';
import { viewerCertificatePaths } from '../tls/certificate.js';
import { readSetAside } from '../fetch/set-aside.js';
import { APPLIANCE_UNITS, runCommand, serviceStates, type Run } from './services.js';
import { queueSummary, type QueueSummary } from './queue.js';
import { certificateExpiry, diskUse, spamRulesUpdated } from './files.js';
import { freshclamRetryMinutes, noDatabaseLines, virusDatabase, type VirusDatabase } from './virus-db.js';
import { fitLine } from '../text/wrap.js';
import { dkimConsoleLines, dkimPublication, type DkimPublication } from '../checks/auth-dkim-record.js';
import { utcClock, utcDay, utcTime } from '../time/utc.js';

/** `cluster`: counted in the shared database, every node's fetcher's. */
export type SetAsideCount = { count: number; cluster: boolean } | { error: string };

export interface StatusFacts {
  now: Date;
  hostname: string;
  services: Array<{ unit: string; state: string }>;
  queue: QueueSummary | null;
  virusDb: VirusDatabase;
  freshclamRetryMinutes: number;
  spamRules: Date | null;
  quarantineBytes: number | null;
  spoolBytes: number | null;
  rootFree: { free: number; total: number } | null;
  certificateExpires: Date | null;
  /** Fetch mode only: messages the fetcher gave up on (runtime/fetch/set-aside.ts), or why they are unknown. */
  setAside: SetAsideCount | null;
  /** The DKIM key and the TXT record to publish for it. */
  dkim: DkimPublication;
  viewerUrls: string[];
}

function age(from: Date, now: Date): string {
  const minutes = Math.max(0, Math.round((now.getTime() - from.getTime()) / 60_000));
  if (minutes < 120) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h ago`;
  return `${Math.round(minutes / 1440)} days ago`;
}

const mb = (bytes: number | null) => (bytes === null ? 'unknown' : `${(bytes / 1048576).toFixed(1)} MB`);
const gb = (bytes: number) => `${(bytes / 1073741824).toFixed(1)} GB`;

export function formatStatus(f: StatusFacts): string[] {
  const lines = [`mailfilter status: ${f.hostname}, ${utcTime(f.now)}`, 'Services (systemctl status UNIT tells more):'];
  const noDatabase = f.virusDb.files.length === 0;
  // Without a database clamd is not started at all (by design): say so rather than "inactive".
  const shown = f.services.map(({ unit, state }) => ({
    unit,
    state: unit === 'clamav-daemon' && noDatabase && state !== 'active' ? 'waiting (no db)' : state,
  }));
  lines.push(`  ${shown.map(({ unit, state }) => `${unit} ${state}`).join(', ')}`);
  lines.push(
    f.queue
      ? `Queue: ${Object.entries(f.queue.counts)
          .map(([name, n]) => `${n} ${name}`)
          .join(', ')}`
      : 'Queue: unknown (postqueue failed)',
  );
  if (f.virusDb.files.length === 0 || !f.virusDb.newest) lines.push(...noDatabaseLines(f.freshclamRetryMinutes));
  else lines.push(`Virus database: ${f.virusDb.files.length} files, newest ${age(f.virusDb.newest, f.now)} (${f.virusDb.files.slice(0, 4).join(', ')})`);
  lines.push(
    f.spamRules ? `Spam rules: updated by sa-update ${age(f.spamRules, f.now)}` : 'Spam rules: as installed; sa-update has not updated them yet (daily timer)',
  );
  const root = f.rootFree ? `; root ${gb(f.rootFree.free)} free of ${gb(f.rootFree.total)}` : '';
  lines.push(`Disk: quarantine ${mb(f.quarantineBytes)}, spool ${mb(f.spoolBytes)}${root}`);
  if (f.certificateExpires) {
    const days = Math.floor((f.certificateExpires.getTime() - f.now.getTime()) / 86_400_000);
    lines.push(`Certificate: expires ${utcDay(f.certificateExpires)} (${days < 0 ? 'EXPIRED' : `in ${days} days`})`);
  } else lines.push('Certificate: none yet (made when the viewer first starts)');
  if (f.setAside !== null) lines.push(setAsideLine(f.setAside));
  if (f.queue && f.queue.deferrals.length) {
    lines.push(`Last ${f.queue.deferrals.length} deferrals:`);
    for (const d of f.queue.deferrals) lines.push(`  ${utcClock(d.arrivalTime * 1000).slice(5)} ${d.recipient}: ${d.reason}`);
  } else if (f.queue) lines.push('Deferrals: none waiting');
  lines.push(`Viewer: ${f.viewerUrls.join('  ') || 'off'}`);
  lines.push(...dkimConsoleLines(f.dkim, '`mailfilter configure` makes it; until then the filter does not start'));
  return lines.flatMap((line) => fitLine(line));
}

function setAsideLine(setAside: SetAsideCount): string {
  if ('error' in setAside) return `Fetching: set-aside messages unknown (${setAside.error})`;
  return `Fetching: ${setAside.count} message(s) set aside after failing several polls${setAside.cluster ? ' (all nodes)' : ''}`;
}

/**
 * How long status waits for the shared database to accept a connection: it runs at every console
 * login, and a host that drops packets must not hold the login for the daemons' 10 s.
 */
export const STATUS_CONNECT_TIMEOUT_MS = 3_000;

/** Fetch mode's set-aside messages: this appliance's, or the cluster's in the shared database; null in SMTP mode. */
export async function setAsideCount(config: AppConfig, connectTimeoutMs = STATUS_CONNECT_TIMEOUT_MS): Promise<SetAsideCount | null> {
  if (config.mail.mode !== 'fetchmail') return null;
  try {
    const { messages, cluster } = await readSetAside(config, { connectTimeoutMs });
    return { count: messages.length, cluster };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function ownAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((n) => n && n.family === 'IPv4' && !n.internal)
    .map((n) => n!.address);
}

export function viewerUrls(config: AppConfig, addresses = ownAddresses()): string[] {
  if (!config.viewer.enabled) return [];
  const port = config.viewer.httpsPort === 443 ? '' : `:${config.viewer.httpsPort}`;
  const named = config.viewer.publicUrl ? config.viewer.publicUrl.replace(/\/+$/, '') : `https://${config.network.hostname}${port}/viewer`;
  return [named, ...addresses.map((a) => `https://${a}${port}/viewer`)];
}

export async function gatherStatus(config: AppConfig, run: Run = runCommand): Promise<StatusFacts> {
  let queue: QueueSummary | null = null;
  try {
    queue = queueSummary(config.postfix.configDir, run);
  } catch {
    queue = null;
  }
  let rootFree: StatusFacts['rootFree'] = null;
  try {
    const s = statfsSync('/');
    rootFree = { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  } catch {
    rootFree = null;
  }
  return {
    now: new Date(),
    hostname: config.network.hostname,
    services: serviceStates(APPLIANCE_UNITS, run),
    queue,
    virusDb: virusDatabase(),
    freshclamRetryMinutes: freshclamRetryMinutes(),
    spamRules: spamRulesUpdated(),
    quarantineBytes: diskUse(config.quarantine.dir, run),
    spoolBytes: diskUse(config.filter.spoolDir, run),
    rootFree,
    certificateExpires: certificateExpiry(viewerCertificatePaths(config).cert),
    setAside: await setAsideCount(config),
    dkim: dkimPublication(config),
    viewerUrls: viewerUrls(config),
  };
}
