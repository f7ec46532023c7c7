// A real clamd on a private socket, with the small signature database shipped in the repo
// (freshclam cannot reach the internet here).
import { stopChild } from './process.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { converse, waitFor } from './net.js';

export const TEST_SIGNATURES = resolve('test/fixtures/clamav/mailfilter-test.ndb');

export interface Clamd {
  socket: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startClamd(dir: string): Promise<Clamd> {
  const dbDir = join(dir, 'db');
  mkdirSync(dbDir, { recursive: true });
  copyFileSync(TEST_SIGNATURES, join(dbDir, 'mailfilter-test.ndb'));
  const socket = join(dir, 'clamd.sock');
  const conf = join(dir, 'clamd.conf');
  writeFileSync(conf, [
    `LocalSocket ${socket}`,
    `DatabaseDirectory ${dbDir}`,
    `LogFile ${join(dir, 'clamd.log')}`,
    `PidFile ${join(dir, 'clamd.pid')}`,
    'Foreground yes',
    'ScanMail yes',
    'ScanArchive yes',
    'StreamMaxLength 64M',
    'MaxThreads 4',
    'LocalSocketMode 666',
    '',
  ].join('\n'));
  let child: ChildProcess | null = null;
  const clamd: Clamd = {
    socket,
    async start() {
      child = spawn('clamd', ['--config-file', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
      await waitFor('clamd to answer PING', async () => (await converse({ path: socket }, 'zPING\0')).startsWith('PONG'), 60_000, 200);
    },
    async stop() {
      const running = child;
      child = null;
      await stopChild(running);
    },
  };
  await clamd.start();
  return clamd;
}
