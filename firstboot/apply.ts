// Applying the wizard's answers: save them, write the appliance config, render every template,
// then (on the appliance itself) restart the services. Every step is reported as it runs; a failure
// says in plain words what went wrong and what to do. /reconfigure goes only after full success.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AppConfig } from '../runtime/config/schema.js';
import { accountsFile, answersToConfig, type Answers } from './answers.js';
import { renderAll, writeRendered } from '../runtime/render/render.js';
import { tlsFiles } from '../runtime/tls/certificate.js';
import { setInitialAdminPassword } from '../runtime/accounts/admin-password.js';
import { fitLine } from '../runtime/text/wrap.js';
import { captureStderr } from './stderr-log.js';
import { CLAMAV_DB_DIR, freshclamRetryMinutes, noDatabaseLines, virusDatabase } from '../runtime/status/virus-db.js';
import { relaySelfTest } from './relay-self-test.js';
import { dkimKeyPath, ensureDkimKey } from '../runtime/checks/auth-dkim-key.js';
import { dkimConsoleLines, dkimPublication } from '../runtime/checks/auth-dkim-record.js';

const run = promisify(execFile);

export interface ApplyOptions {
  /** "/" on the appliance; a scratch folder in tests and for a dry run. */
  root: string;
  configPath: string;
  answersPath: string;
  /** Restart services: only on the appliance itself. */
  restart: boolean;
  progress: (line: string) => void;
}

interface Step {
  label: string;
  run: () => Promise<string | void>;
  /** What the admin can do when this step fails. */
  advice: string;
}

const inRoot = (root: string, path: string) => join(root, path);

function writePrivate(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** On the appliance the daemons run as user mailfilter: let them read what they need. */
async function shareWithDaemons(root: string, path: string, mode: number, recursive = false): Promise<void> {
  if (root !== '/') return;
  const ids = await run('id', ['-u', 'mailfilter'])
    .then(async (u) => ({ uid: Number(u.stdout), gid: Number((await run('id', ['-g', 'mailfilter'])).stdout) }))
    .catch(() => null);
  if (!ids) return;
  await run('chown', [...(recursive ? ['-R'] : []), `${recursive ? ids.uid : 0}:${ids.gid}`, path]);
  if (!recursive) chmodSync(path, mode);
}

/** On the appliance: files only the daemons (user mailfilter) may read, like the DKIM key. */
async function ownByDaemons(root: string, paths: string[]): Promise<void> {
  if (root !== '/') return;
  const user = await run('id', ['-u', 'mailfilter']).catch(() => null);
  if (!user) return;
  await run('chown', ['mailfilter:mailfilter', ...paths]);
}

async function systemctl(...args: string[]): Promise<void> {
  await run('systemctl', args, { timeout: 120_000 });
}

function serviceSteps(config: AppConfig, root: string): Step[] {
  const enableOrDisable = async (unit: string, on: boolean) => {
    if (on) await systemctl('enable', '--now', unit).then(() => systemctl('restart', unit));
    else await systemctl('disable', '--now', unit);
  };
  const journal = (unit: string) => `See \`journalctl -u ${unit} -n 50\` for why, fix it, then run \`mailfilter configure\` again.`;
  return [
    {
      label: 'Setting the host name',
      run: () => run('hostname', [config.network.hostname.split('.')[0]!]).then(() => undefined),
      advice: 'Check the host name you entered.',
    },
    {
      label: 'Restarting the network (SSH sessions may drop)',
      run: () => systemctl('restart', 'networking'),
      advice: 'Check the address, mask and gateway; `ip addr` shows what the interface has.',
    },
    {
      label: 'Loading the firewall (SSH, SMTP, viewer)',
      run: () => systemctl('restart', 'nftables'),
      advice: 'See `nft -c -f /etc/nftables.conf` for the error.',
    },
    {
      label: 'Restarting the local DNS resolver (unbound)',
      run: () => systemctl('enable', '--now', 'unbound').then(() => systemctl('restart', 'unbound')),
      advice: `${journal('unbound')} \`unbound-checkconf\` checks its config.`,
    },
    { label: 'Restarting time sync', run: () => systemctl('restart', 'systemd-timesyncd'), advice: journal('systemd-timesyncd') },
    { label: 'Restarting Postfix', run: () => systemctl('restart', 'postfix'), advice: journal('postfix') },
    {
      label: 'Restarting ClamAV (clamd)',
      // Without a database the unit waits for one (its drop-in): "done" would hide that.
      run: () =>
        systemctl('restart', 'clamav-daemon').then(() =>
          virusDatabase(inRoot(root, CLAMAV_DB_DIR)).files.length ? undefined : 'waiting for a virus database, see below',
        ),
      advice: journal('clamav-daemon'),
    },
    {
      label: 'Restarting the ClamAV updater (freshclam)',
      run: () => systemctl('restart', 'clamav-freshclam'),
      advice: 'freshclam needs the Internet; the old database is used until it works.',
    },
    { label: 'Restarting SpamAssassin (spamd)', run: () => systemctl('restart', 'spamd'), advice: journal('spamd') },
    { label: 'Restarting the content filter', run: () => systemctl('restart', 'mailfilter-filter'), advice: journal('mailfilter-filter') },
    {
      label: config.viewer.enabled ? 'Starting the quarantine viewer' : 'Turning the quarantine viewer off',
      run: () => enableOrDisable('mailfilter-viewer', config.viewer.enabled),
      advice: journal('mailfilter-viewer'),
    },
    // Digests link to the viewer: they go and come with it.
    {
      label: config.viewer.enabled ? 'Scheduling quarantine digests' : 'Turning quarantine digests off',
      run: () => enableOrDisable('mailfilter-digest.timer', config.viewer.enabled),
      advice: journal('mailfilter-digest'),
    },
    {
      label: config.greylist.enabled ? 'Starting greylisting' : 'Turning greylisting off',
      run: () => enableOrDisable('mailfilter-policy', config.greylist.enabled),
      advice: journal('mailfilter-policy'),
    },
    {
      label: config.mail.mode === 'fetchmail' ? 'Starting mail fetching' : 'Turning mail fetching off (SMTP mode)',
      run: () => enableOrDisable('mailfilter-fetch', config.mail.mode === 'fetchmail'),
      advice: journal('mailfilter-fetch'),
    },
    {
      label: config.directory.enabled ? 'Reading recipients from Exchange/Active Directory' : 'Turning Exchange integration off',
      run: async () => {
        await enableOrDisable('mailfilter-directory-sync.timer', config.directory.enabled);
        if (config.directory.enabled) await run('mailfilter', ['directory-sync'], { timeout: 300_000 });
      },
      advice:
        'Check the server name, the account and its password, and the base DN; `mailfilter directory-sync` shows the details. Edit /etc/mailfilter/mailfilter.json or run `mailfilter configure` again.',
    },
  ];
}

/** Last: the running Postfix, asked as a client outside the allowed networks, must refuse to relay. */
function relaySelfTestStep(config: AppConfig): Step {
  return {
    label: 'Testing that Postfix refuses to relay for outsiders',
    run: () => relaySelfTest({ configDir: config.postfix.configDir }),
    advice:
      'Keep port 25 away from the Internet until this passes. An open relay: `postconf -n` shows mynetworks, relay_domains and smtpd_relay_restrictions. No answer: `journalctl -u postfix@- -n 50` tells why. Then run `mailfilter configure` again.',
  };
}

export async function applyAnswers(answers: Answers, base: AppConfig, options: ApplyOptions): Promise<boolean> {
  const { root } = options;
  // A serial console cuts long lines at 80 columns; log lines and warnings go to a file instead.
  const progress = (text: string) => {
    for (const line of text.split('\n')) for (const part of fitLine(line)) options.progress(part);
  };
  const stopCapture = captureStderr(inRoot(root, APPLY_LOG));
  try {
    return await applySteps(answers, base, { ...options, progress });
  } finally {
    await new Promise((resolve) => setImmediate(resolve)); // the logger writes on the next turn
    stopCapture();
  }
}

export const APPLY_LOG = '/var/log/mailfilter/configure.log';

async function applySteps(answers: Answers, base: AppConfig, options: ApplyOptions): Promise<boolean> {
  const { root, progress } = options;
  let config: AppConfig;
  try {
    config = answersToConfig(answers, base);
  } catch (err) {
    progress(
      `Checking the answers ... FAILED\n      ${(err as Error).message.split('\n').join('\n      ')}\n      What to do: run the wizard again and correct the answer named above.`,
    );
    return false;
  }
  const steps: Step[] = [
    {
      label: 'Saving the answers for the next run',
      run: async () => writePrivate(inRoot(root, options.answersPath), JSON.stringify(answers, null, 2) + '\n'),
      advice: 'Is the disk full or read-only? `df -h /` tells.',
    },
    {
      label: 'Writing the appliance config',
      run: async () => {
        writePrivate(inRoot(root, options.configPath), JSON.stringify(config, null, 2) + '\n');
        await shareWithDaemons(root, options.configPath, 0o640);
      },
      advice: 'Is the disk full or read-only? `df -h /` tells.',
    },
    {
      label: 'Writing the fetch accounts',
      run: async () => {
        if (config.mail.mode !== 'fetchmail') return 'not needed in SMTP mode';
        const path = inRoot(root, config.fetch.accountsFile);
        if (!answers.enterAccounts || answers.fetchServers.length === 0)
          return existsSync(path) ? `kept ${config.fetch.accountsFile}` : `none entered; add them to ${config.fetch.accountsFile}`;
        writePrivate(path, JSON.stringify(accountsFile(answers), null, 2) + '\n');
        await shareWithDaemons(root, path, 0o640);
        return config.fetch.accountsFile;
      },
      advice: 'Is the disk full or read-only? `df -h /` tells.',
    },
    {
      label: 'Writing Postfix, ClamAV, SpamAssassin and network settings',
      run: async () => {
        const files = renderAll(config);
        await writeRendered(files, root);
        for (const file of files.filter((f) => f.postmap)) await run('postmap', ['-c', inRoot(root, config.postfix.configDir), inRoot(root, file.target)]);
        return `${files.length} files`;
      },
      advice: 'A template in /usr/share/mailfilter/templates may be broken; reinstall the appliance runtime.',
    },
    {
      // Before the certificate step, whose chown covers the viewer's database too.
      label: 'Setting the viewer administrator’s (vadmin) password',
      run: async () => {
        if (!config.viewer.enabled) return 'viewer off';
        let password: string | null;
        try {
          password = await setInitialAdminPassword({ ...config, viewer: { ...config.viewer, dataDir: inRoot(root, config.viewer.dataDir) } });
        } catch (err) {
          // The rest of the setup does not depend on it: said plainly, and settable later.
          if (config.storage.backend !== 'postgresql') throw err;
          return `NOT SET: the shared database did not answer (${(err as Error).message}); vadmin keeps the initial password there until \`mailfilter admin-password\` is run once it answers`;
        }
        return password ? `vadmin's password is now: ${password}  (shown only this once: write it down)` : 'kept: it was set before';
      },
      advice: 'Is the disk full or read-only? `df -h /` tells.',
    },
    {
      // Postfix offers STARTTLS with it too, so it is made even when the viewer is off.
      label: 'Preparing the appliance’s certificate',
      run: async () => {
        const made = tlsFiles({ ...config, viewer: { ...config.viewer, dataDir: inRoot(root, config.viewer.dataDir) } });
        await shareWithDaemons(root, inRoot(root, config.viewer.dataDir), 0o700, true);
        return made.cert.slice(root === '/' ? 0 : root.length);
      },
      advice: 'openssl must be installed to make the self-signed certificate.',
    },
    {
      // Before the filter restarts: it refuses to start signing without its key.
      label: 'Preparing the DKIM signing key',
      run: async () => {
        if (!config.dkim.enabled) return 'not signing';
        const keyFile = dkimKeyPath(config.dkim);
        if (ensureDkimKey(inRoot(root, keyFile), config.dkim.algorithm) === 'kept') return `kept ${keyFile}`;
        // Our own folder goes to the daemons with it; a folder the admin named stays as it is.
        await ownByDaemons(root, config.dkim.keyFile ? [keyFile] : [dirname(keyFile), keyFile]);
        return `made ${keyFile}`;
      },
      advice: 'Is the disk full or read-only? `df -h /` tells.',
    },
  ];
  if (options.restart) steps.push(...serviceSteps(config, root), relaySelfTestStep(config));

  for (const [index, step] of steps.entries()) {
    const prefix = `[${index + 1}/${steps.length}] ${step.label} ...`;
    try {
      const detail = await step.run();
      progress(`${prefix} done${detail ? ` (${detail})` : ''}`);
    } catch (err) {
      const reason = (err as Error & { stderr?: string }).stderr?.trim() || (err as Error).message;
      progress(`${prefix} FAILED\n      ${reason.split('\n').join('\n      ')}\n      What to do: ${step.advice}`);
      progress('The configuration is not complete; /reconfigure is kept so the wizard runs again at the next login.');
      return false;
    }
  }
  rmSync(inRoot(root, '/reconfigure'), { force: true });
  progress('The configuration is applied.');
  progress(`To reconfigure at any time: run 'mailfilter configure', or 'touch /reconfigure' and reboot.`);
  if (virusDatabase(inRoot(root, CLAMAV_DB_DIR)).files.length === 0) {
    progress('');
    for (const line of noDatabaseLines(freshclamRetryMinutes(inRoot(root, '/etc/clamav/freshclam.conf')))) progress(line);
  }
  if (config.dkim.enabled) {
    progress('');
    for (const line of dkimConsoleLines(dkimPublication(config, root), 'it was not made, see above')) progress(line);
  }
  progress("'mailfilter status' shows the services, the queue and the virus database.");
  return true;
}
