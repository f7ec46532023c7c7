// A real Postfix instance for tests: our rendered main.cf/master.cf/transport in a private config
// folder, its own queue, loopback only, log in a file.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../../runtime/config/schema.js';
import { renderAll, writeRendered } from '../../firstboot/render.js';
import { listening, waitFor } from './net.js';

const run = promisify(execFile);

export interface Postfix {
  confDir: string;
  smtpPort: number;
  log(): string;
  /** Messages still in the queue (deferred or active). */
  queueSize(): Promise<number>;
  flush(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `config.postfix.configDir` must point inside `dir`. */
export async function startPostfix(dir: string, config: AppConfig): Promise<Postfix> {
  const confDir = config.postfix.configDir;
  for (const sub of ['queue', 'data']) mkdirSync(join(dir, sub), { recursive: true });
  const { uid, gid } = await run('id', ['-u', 'postfix']).then(async (u) => ({ uid: Number(u.stdout), gid: Number((await run('id', ['-g', 'postfix'])).stdout) }));
  chownSync(join(dir, 'data'), uid, gid);
  // Only Postfix's own files, and only inside this instance's folder: the rest of the manifest
  // (network, ClamAV, SpamAssassin) targets the machine's /etc and must never be written here.
  const files = renderAll(config).filter((f) => f.template.startsWith('postfix/'));
  const outside = files.filter((f) => !f.target.startsWith(`${confDir}/`));
  if (outside.length > 0) throw new Error(`refusing to write outside ${confDir}: ${outside.map((f) => f.target).join(', ')}`);
  await writeRendered(files, '/');
  const logFile = join(dir, 'maillog');
  await run('postconf', ['-c', confDir, '-e',
    `queue_directory=${join(dir, 'queue')}`,
    `data_directory=${join(dir, 'data')}`,
    'inet_interfaces=127.0.0.1',
    `maillog_file_prefixes=${dir}`,
    `maillog_file=${logFile}`,
    // The queue is flushed by the tests; keep retries quick when they do not.
    'minimal_backoff_time=5s', 'maximal_backoff_time=10s', 'queue_run_delay=5s',
  ]);
  await run('postmap', [join(confDir, 'transport')]);
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const start = async () => {
    await run('postfix', ['-c', confDir, 'start']).catch((err: Error) => {
      throw new Error(`postfix start failed: ${err.message}\n${readLog()}`);
    });
    await waitFor('Postfix to listen', () => listening(config.postfix.smtpPort), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${readLog()}`);
    });
    await waitFor('Postfix re-injection to listen', () => listening(config.postfix.reinjectPort), 30_000);
  };
  await start();
  return {
    start,
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
    async stop() {
      await run('postfix', ['-c', confDir, 'stop']).catch(() => undefined);
      await waitFor('Postfix to stop listening', async () => !(await listening(config.postfix.smtpPort)), 30_000);
    },
  };
}
