// A real spamd on a loopback port: Debian's shipped rules, network tests off (-L), learning allowed
// (TELL) into a Bayes database of its own.
import { stopChild } from './process.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { converse, freePort, waitFor } from './net.js';

export interface Spamd {
  port: number;
  /** Where spamd keeps its Bayes database (learned ham and spam); read it with `sa-learn --dbpath`. */
  bayesDir: string;
  stop(): Promise<void>;
}

export async function startSpamd(dir: string): Promise<Spamd> {
  mkdirSync(dir, { recursive: true });
  // spamd's children run as nobody and keep their Bayes state here.
  chownSync(dir, 65534, 65534);
  const port = await freePort();
  const child: ChildProcess = spawn('spamd', [
    '--local', `--listen=127.0.0.1:${port}`, '--allowed-ips=127.0.0.1', '--max-children=2', '--min-children=1',
    '--nouser-config', '--username=nobody', '--allow-tell', `--cf=bayes_path ${join(dir, 'bayes')}`, `--helper-home-dir=${dir}`, `--pidfile=${join(dir, 'spamd.pid')}`, `--syslog=${join(dir, 'spamd.log')}`,
  ], { stdio: ['ignore', 'ignore', 'ignore'] });
  await waitFor('spamd to answer PING', async () => {
    if (child.exitCode !== null) throw new Error(`spamd exited with ${child.exitCode}`);
    return (await converse({ host: '127.0.0.1', port }, 'PING SPAMC/1.5\r\n\r\n')).includes('PONG');
  }, 120_000, 250);
  return {
    port,
    bayesDir: dir,
    stop: () => stopChild(child),
  };
}
