// Servers started by `mailfilter start` and by the tests: each one stoppable, stopped in reverse
// order, and killed by the exit of the process that started it, so that nothing outlives a run.
// Every child inherits MAILFILTER_RUN_ID when it is set, so a sweep can find what a run left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';

export interface Server {
  /** What it is, for messages: "clamd", "Postfix (/tmp/…/conf)". */
  name: string;
  stop(): Promise<void>;
}

/** Synchronous last-resort stops, run when the process exits with servers still up. */
const stopOnExit = new Set<() => void>();
let exitHookInstalled = false;

function stopAllNow(): void {
  for (const stop of stopOnExit) {
    try {
      stop();
    } catch {
      // the process is exiting: nothing left to report to
    }
  }
  stopOnExit.clear();
}

/**
 * Registers a synchronous stop for when this process ends: at exit, and on a signal that would
 * kill it (node runs no exit handlers then). A signal the program handles itself (the CLI's
 * orderly stop) is left to it.
 */
export function stopWhenProcessExits(stopNow: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', stopAllNow);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      const onSignal = () => {
        if (process.listenerCount(signal) > 1) return;
        stopAllNow();
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      };
      process.on(signal, onSignal);
    }
  }
  stopOnExit.add(stopNow);
  return () => stopOnExit.delete(stopNow);
}

export interface ChildServer extends Server {
  child: ChildProcess;
  /** The tail of its log file (or nothing), for error messages. */
  logTail(): string;
  /** Waits until `probe` says it is up; fails at once if the process exits first. */
  ready(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void>;
}

/**
 * Spawns a server in its own process group (a Ctrl-C at the terminal reaches us, and we stop it in
 * order), its output appended to `logFile`. Stopping sends SIGTERM to the group, then SIGKILL.
 */
export function spawnServer(name: string, command: string, args: string[], options: { logFile?: string; cwd?: string } = {}): ChildServer {
  const out = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], ...(options.cwd ? { cwd: options.cwd } : {}) });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const unregister = stopWhenProcessExits(() => signalGroup('SIGKILL'));
  const logTail = () => (options.logFile && existsSync(options.logFile) ? readFileSync(options.logFile, 'utf8').split('\n').slice(-15).join('\n') : '');
  const alive = () => child.exitCode === null && child.signalCode === null && !spawnError;
  return {
    name,
    child,
    logTail,
    async ready(what, probe, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (!alive()) {
          const how = spawnError ? spawnError.message : `exited with ${child.exitCode ?? child.signalCode}`;
          throw new Error(`${name} did not start (${how})${logTail() ? `; its log ends:\n${logTail()}` : ''}`);
        }
        if (await probe().catch(() => false)) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`${name}: timed out after ${timeoutMs} ms waiting for ${what}${logTail() ? `; its log ends:\n${logTail()}` : ''}`);
    },
    async stop() {
      signalGroup('SIGTERM');
      // A process group whose leader died may still hold children (spamd's): kill the rest.
      const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000))]);
      signalGroup('SIGKILL');
      if (!gone) await exited;
      unregister();
    },
  };
}

/**
 * The servers one run started, stopped in reverse order. Start each through `start` so that a
 * failure part-way stops whatever had already started.
 */
export class ServerSet {
  private readonly servers: Server[] = [];

  add<T extends Server>(server: T): T {
    this.servers.push(server);
    return server;
  }

  /** Starts several servers at once; if any fails, the ones that started are stopped too. */
  async startTogether<T extends readonly unknown[]>(starts: { [K in keyof T]: Promise<T[K] & Server> }): Promise<T> {
    const settled = await Promise.allSettled(starts);
    for (const result of settled) if (result.status === 'fulfilled') this.add(result.value);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
  }

  async stopAll(): Promise<void> {
    const problems: string[] = [];
    for (const server of this.servers.splice(0).reverse()) {
      await server.stop().catch((err: Error) => problems.push(`${server.name}: ${err.message}`));
    }
    if (problems.length > 0) throw new Error(`some servers did not stop cleanly: ${problems.join('; ')}`);
  }
}

/** Runs `body` with a fresh set; if it throws, everything it started is stopped before rethrowing. */
export async function startingAll<T>(body: (servers: ServerSet) => Promise<T>): Promise<T> {
  const servers = new ServerSet();
  try {
    return await body(servers);
  } catch (err) {
    await servers.stopAll().catch(() => undefined);
    throw err;
  }
}
