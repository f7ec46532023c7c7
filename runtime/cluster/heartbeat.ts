// This node's heartbeat in the shared database (storage.backend postgresql): its name, version and
// Postfix queue size every HEARTBEAT_INTERVAL_MS, through the filter's handle on it, so the console can
// list the nodes and show one that went quiet. A beat that fails is logged and tried at the next one.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import type { AppConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { SharedTables } from '../storage/shared-schema.js';
import { parseQueue } from '../status/queue.js';
import { heartbeat, HEARTBEAT_INTERVAL_MS } from './nodes.js';

/** The release this node runs: package.json above this file, from the sources or the built dist/. */
function runningVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'mailfilter' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

/** Messages in Postfix's queues, read as `mailfilter status` reads them, or -1 when postqueue cannot say. */
export function postfixQueueSize(configDir: string): Promise<number> {
  return new Promise((resolve) => {
    execFile('postqueue', ['-c', configDir, '-j'], { timeout: 10_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      resolve(err ? -1 : Object.values(parseQueue(stdout).counts).reduce((sum, n) => sum + n, 0));
    });
  });
}

/** `db` is the process's handle on the shared database; stop() ends the beats and leaves it open. */
export function startHeartbeat(config: AppConfig, db: Kysely<SharedTables>, log: Logger, intervalMs = HEARTBEAT_INTERVAL_MS): { stop(): Promise<void> } {
  const version = runningVersion();
  let starting = true;
  let beating: Promise<void> = Promise.resolve();
  const beat = () => {
    beating = (async () => {
      const queueSize = await postfixQueueSize(config.postfix.configDir);
      await heartbeat(db, { name: config.network.hostname, version, queueSize }, starting);
      starting = false;
    })().catch((err: unknown) => log.warn('heartbeat not written', { error: (err as Error).message }));
  };
  beat();
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await beating;
    },
  };
}
