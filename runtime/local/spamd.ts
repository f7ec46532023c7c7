// A private spamd on a loopback port, for `mailfilter start` and the tests: Debian's shipped rules,
// network tests off (--local), learning allowed (TELL) into a Bayes database of its own.
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { converse, freePort } from './net.js';
import { spawnServer, type Server } from './servers.js';

export interface Spamd extends Server {
  port: number;
  /** Where spamd keeps its Bayes database (learned ham and spam); read it with `sa-learn --dbpath`. */
  bayesDir: string;
}

/** `dir` must be reachable by the user nobody: spamd's children run as nobody and keep state there. */
export async function startSpamd(dir: string, options: { port?: number; extraArgs?: string[] } = {}): Promise<Spamd> {
  mkdirSync(dir, { recursive: true });
  chownSync(dir, 65534, 65534);
  const port = options.port ?? (await freePort());
  const server = spawnServer(
    'spamd',
    'spamd',
    [
      '--local',
      `--listen=127.0.0.1:${port}`,
      '--allowed-ips=127.0.0.1',
      '--max-children=2',
      '--min-children=1',
      '--nouser-config',
      '--username=nobody',
      '--allow-tell',
      `--cf=bayes_path ${join(dir, 'bayes')}`,
      `--helper-home-dir=${dir}`,
      `--pidfile=${join(dir, 'spamd.pid')}`,
      `--syslog=${join(dir, 'spamd.log')}`,
      // As the image's local.cf: a partial result after 50 s, within the filter's spamd timeout.
      '--cf=time_limit 50',
      ...(options.extraArgs ?? []),
    ],
    { logFile: join(dir, 'spamd.out') },
  );
  try {
    // Compiling the rule set takes tens of seconds on two busy cores.
    await server.ready('spamd to answer PING', async () => (await converse({ host: '127.0.0.1', port }, 'PING SPAMC/1.5\r\n\r\n')).includes('PONG'), 180_000);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { name: 'spamd', port, bayesDir: dir, stop: () => server.stop() };
}
