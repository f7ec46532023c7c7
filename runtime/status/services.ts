// Each service's state as systemd reports it: active, activating (clamd waiting for its database),
// failed, inactive. One `systemctl is-active` call for all of them.
import { execFileSync } from 'node:child_process';

export const APPLIANCE_UNITS = [
  'postfix',
  'clamav-daemon',
  'clamav-freshclam',
  'spamd',
  'mailfilter-filter',
  'mailfilter-viewer',
  'mailfilter-fetch',
  'mailfilter-sa-update.timer',
  'clamav-daemon-database.path',
  'systemd-timesyncd',
  'nftables',
  'unbound',
  'mailfilter-policy',
];

export type Run = (command: string, args: string[]) => string;

/** The command's stdout, also when it exits non-zero (is-active does for any unit not active). */
export const runCommand: Run = (command, args) => {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 });
  } catch (err) {
    const stdout = (err as { stdout?: string }).stdout;
    if (typeof stdout === 'string' && stdout !== '') return stdout;
    throw err;
  }
};

export function serviceStates(units: string[], run: Run = runCommand): Array<{ unit: string; state: string }> {
  let lines: string[] = [];
  try {
    lines = run('systemctl', ['is-active', ...units])
      .trim()
      .split('\n');
  } catch {
    lines = [];
  }
  return units.map((unit, i) => ({ unit, state: lines[i]?.trim() || 'unknown' }));
}
