// A private clamd on a local socket, for `mailfilter start` and the tests: never the machine's own
// /etc/clamav. It loads the machine's virus database when freshclam has fetched one, else the small
// test signature set shipped in the repo (EICAR and the project's test patterns).
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { converse } from './net.js';
import { spawnServer, type Server } from './servers.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEST_SIGNATURES = join(REPO, 'test', 'fixtures', 'clamav', 'mailfilter-test.ndb');
export const MACHINE_DATABASE_DIR = '/var/lib/clamav';

export interface Clamd extends Server {
  socket: string;
  /** Which signatures it loaded, in words. */
  database: string;
  start(): Promise<void>;
}

/** True when freshclam (or an admin) has put a real database in `dir`. */
export function hasVirusDatabase(dir = MACHINE_DATABASE_DIR): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => /^(main|daily)\.(cvd|cld)$/.test(f));
}

export async function startClamd(dir: string, options: { database?: 'test' | 'machine-if-any' } = {}): Promise<Clamd> {
  mkdirSync(dir, { recursive: true });
  const useMachine = options.database === 'machine-if-any' && hasVirusDatabase();
  let dbDir = MACHINE_DATABASE_DIR;
  if (!useMachine) {
    dbDir = join(dir, 'db');
    mkdirSync(dbDir, { recursive: true });
    copyFileSync(TEST_SIGNATURES, join(dbDir, 'mailfilter-test.ndb'));
  }
  const socket = join(dir, 'clamd.sock');
  const conf = join(dir, 'clamd.conf');
  const logFile = join(dir, 'clamd.log');
  writeFileSync(
    conf,
    [
      `LocalSocket ${socket}`,
      `DatabaseDirectory ${dbDir}`,
      `LogFile ${logFile}`,
      `PidFile ${join(dir, 'clamd.pid')}`,
      'Foreground yes',
      'ScanMail yes',
      'ScanArchive yes',
      'StreamMaxLength 64M',
      'MaxThreads 4',
      'LocalSocketMode 666',
      '',
    ].join('\n'),
  );
  let server: ReturnType<typeof spawnServer> | null = null;
  const clamd: Clamd = {
    name: 'clamd',
    socket,
    database: useMachine
      ? `the machine's virus database (${MACHINE_DATABASE_DIR})`
      : `the repo's test signatures (${TEST_SIGNATURES}; no database in ${MACHINE_DATABASE_DIR})`,
    async start() {
      server = spawnServer('clamd', 'clamd', ['--config-file', conf], { logFile: join(dir, 'clamd.out') });
      try {
        // A full database takes a while to load on two cores.
        await server.ready('clamd to answer PING', async () => (await converse({ path: socket }, 'zPING\0')).startsWith('PONG'), useMachine ? 300_000 : 60_000);
      } catch (err) {
        await clamd.stop();
        throw err;
      }
    },
    async stop() {
      const running = server;
      server = null;
      await running?.stop();
    },
  };
  await clamd.start();
  return clamd;
}
