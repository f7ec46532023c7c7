// A private Postfix instance, for `mailfilter start` and the tests: our rendered main.cf, master.cf
// and transport in its own config folder, its own queue, loopback only, its log in a file. Every
// command names the instance's config folder: the machine's /etc/postfix may not even exist.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AppConfig } from '../config/schema.js';
import { renderAll, writeRendered } from '../render/render.js';
import { smtpTlsFiles } from '../tls/certificate.js';
import { listening, waitFor } from './net.js';
import { stopWhenProcessExits, type Server } from './servers.js';

const run = promisify(execFile);

export interface Postfix extends Server {
  confDir: string;
  smtpPort: number;
  log(): string;
  /** Messages still in the queue (deferred or active). */
  queueSize(): Promise<number>;
  flush(): Promise<void>;
  start(): Promise<void>;
}

/**
 * The argv that runs a command in a mount namespace of its own where `resolvConf` is /etc/resolv.conf:
 * the command's resolver reads nothing else, and the machine's file stays untouched.
 */
export function withResolvConf(resolvConf: string, command: string[]): [string, string[]] {
  return ['unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolvConf, ...command]];
}

/** `postfix start`, or with `resolvConf` the same inside its own mount namespace (withResolvConf). */
function startCommand(confDir: string, resolvConf?: string) {
  const command = ['postfix', '-c', confDir, 'start'];
  return resolvConf ? run(...withResolvConf(resolvConf, command)) : run(command[0]!, command.slice(1));
}

/** Postfix's daemons drop to the postfix user: `dir` and every folder above it must be searchable by it. */
export async function startPostfix(dir: string, config: AppConfig, options: { quickRetries?: boolean; resolvConf?: string } = {}): Promise<Postfix> {
  const confDir = config.postfix.configDir;
  for (const sub of ['queue', 'data']) mkdirSync(join(dir, sub), { recursive: true });
  const uid = Number((await run('id', ['-u', 'postfix'])).stdout);
  const gid = Number((await run('id', ['-g', 'postfix'])).stdout);
  chownSync(join(dir, 'data'), uid, gid);
  // Only Postfix's own files, and only inside this instance's folder: the rest of the manifest
  // (network, ClamAV, SpamAssassin) targets the machine's /etc and must never be written here.
  const files = renderAll(config).filter((f) => f.template.startsWith('postfix/'));
  const outside = files.filter((f) => !f.target.startsWith(`${confDir}/`));
  if (outside.length > 0) throw new Error(`refusing to write outside ${confDir}: ${outside.map((f) => f.target).join(', ')}`);
  await writeRendered(files, '/');
  // STARTTLS on the front door: the configured certificate, or the appliance's self-signed one.
  smtpTlsFiles(config);
  const logFile = join(dir, 'maillog');
  await run('postconf', [
    '-c',
    confDir,
    '-e',
    `queue_directory=${join(dir, 'queue')}`,
    `data_directory=${join(dir, 'data')}`,
    'inet_interfaces=127.0.0.1',
    `maillog_file_prefixes=${dir}`,
    `maillog_file=${logFile}`,
    // The run's marker reaches the master, so a sweep finds an instance that was left running.
    'import_environment=MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME MAILFILTER_RUN_ID',
    ...(options.quickRetries ? ['minimal_backoff_time=5s', 'maximal_backoff_time=10s', 'queue_run_delay=5s'] : []),
  ]);
  for (const file of files.filter((f) => f.postmap)) await run('postmap', ['-c', confDir, file.target]);
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const logTail = () => readLog().split('\n').slice(-15).join('\n');
  let unregister: (() => void) | null = null;
  const stop = async () => {
    await run('postfix', ['-c', confDir, 'stop']).catch(() => undefined);
    await waitFor('Postfix to stop listening', async () => !(await listening(config.postfix.smtpPort)), 30_000);
    unregister?.();
    unregister = null;
  };
  const start = async () => {
    unregister ??= stopWhenProcessExits(() => execFileSync('postfix', ['-c', confDir, 'abort'], { stdio: 'ignore' }));
    try {
      await startCommand(confDir, options.resolvConf).catch((err: Error) => {
        throw new Error(`postfix start failed: ${err.message}\n${logTail()}`);
      });
      await waitFor('Postfix to listen', () => listening(config.postfix.smtpPort), 30_000);
      await waitFor('Postfix re-injection to listen', () => listening(config.postfix.reinjectPort), 30_000);
    } catch (err) {
      await stop().catch(() => undefined);
      throw new Error(`Postfix (${confDir}) did not start: ${(err as Error).message}\n${logTail()}`);
    }
  };
  await start();
  return {
    name: `Postfix (${confDir})`,
    start,
    stop,
    confDir,
    smtpPort: config.postfix.smtpPort,
    log: readLog,
    async queueSize() {
      const { stdout } = await run('postqueue', ['-c', confDir, '-j']);
      return stdout.split('\n').filter((line) => line.trim().startsWith('{')).length;
    },
    async flush() {
      await run('postqueue', ['-c', confDir, '-f']);
    },
  };
}
