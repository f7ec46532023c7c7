// `mailfilter start`: the whole appliance on loopback, for trying it without a VM. A private
// Postfix (front door 127.0.0.1:2525), clamd, spamd, the filter, the viewer, and a sink standing in
// for the organisation's mail server that keeps each delivered message as a file. Ctrl-C stops
// everything, in reverse order; a second start while one runs refuses before starting anything.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { parseConfig } from '../config/load.js';
import type { AppConfig } from '../config/schema.js';
import { startClamd, type Clamd } from './clamd.js';
import { listening } from './net.js';
import { startPostfix } from './postfix.js';
import { startingAll, type ServerSet } from './servers.js';
import { startSink, type Sink } from './sink.js';
import { startSpamd, type Spamd } from './spamd.js';

/** The fixed loopback ports, so that the printed swaks lines work every time. */
export const LOCAL_PORTS = { smtp: 2525, sink: 2526, filter: 10024, reinject: 10025, spamd: 7830, https: 8443, http: 8080 } as const;
const DOMAIN = 'example.com';

export interface LocalAppliance {
  config: AppConfig;
  stateDir: string;
  deliveredDir: string;
  /** What to tell the person who started it. */
  banner: string;
  stop(): Promise<void>;
}

/** True when every folder from `/` down to `dir` can be searched by any user (Postfix's and spamd's users). */
function searchableByAll(dir: string): boolean {
  for (let at = resolve(dir); ; at = dirname(at)) {
    if (existsSync(at) && (statSync(at).mode & 0o001) === 0) return false;
    if (at === dirname(at)) return true;
  }
}

/**
 * Postfix and spamd drop privileges, so their folders must be reachable by other users. A clone in
 * /root is not: their state then goes to /var/tmp, under a name made from the state folder's path.
 */
function serviceDirFor(stateDir: string): string {
  if (searchableByAll(stateDir)) return stateDir;
  const key = createHash('sha256').update(stateDir).digest('hex').slice(0, 12);
  return join('/var/tmp', `mailfilter-start-${key}`);
}

export function localConfig(stateDir: string, serviceDir: string): AppConfig {
  return parseConfig(
    {
      network: { hostname: 'mailfilter.localdomain' },
      mail: {
        mode: 'smtp',
        externalDomain: DOMAIN,
        internalDomain: DOMAIN,
        relayDomains: [DOMAIN],
        finalServer: '127.0.0.1',
        finalServerPort: LOCAL_PORTS.sink,
        allowedNetworks: 'host',
      },
      postfix: { configDir: join(serviceDir, 'postfix', 'conf'), smtpPort: LOCAL_PORTS.smtp, reinjectPort: LOCAL_PORTS.reinject },
      filter: { listenPort: LOCAL_PORTS.filter, spoolDir: join(stateDir, 'spool') },
      quarantine: { dir: join(stateDir, 'quarantine') },
      fetch: { stateDir: join(stateDir, 'fetch'), accountsFile: join(stateDir, 'fetch-accounts.json') },
      viewer: { listenAddress: '127.0.0.1', httpsPort: LOCAL_PORTS.https, httpPort: LOCAL_PORTS.http, dataDir: join(stateDir, 'viewer') },
      clamd: { socket: join(stateDir, 'clamd', 'clamd.sock'), timeoutSeconds: 60 },
      spamd: { port: LOCAL_PORTS.spamd, timeoutSeconds: 60 },
    },
    'embedded defaults of mailfilter start',
  );
}

/** Thrown when the appliance cannot start; its message is meant for the person at the terminal. */
export class StartRefused extends Error {}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Takes `<stateDir>/start.pid`, or refuses when another start holds it. A lock left by a start that
 * was killed is taken over, and what that start left running is stopped first.
 */
function takeLock(stateDir: string, leftovers: () => void): () => void {
  const lock = join(stateDir, 'start.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && pidAlive(holder)) {
        throw new StartRefused(
          `mailfilter start is already running (pid ${holder}, state in ${stateDir}). Stop it with Ctrl-C in its terminal, or kill ${holder}.`,
        );
      }
      leftovers();
      rmSync(lock, { force: true });
    }
  }
  throw new StartRefused(`could not take ${lock}`);
}

/** What a killed start may have left: its Postfix master, and clamd and spamd by their pid files. */
function stopLeftovers(postfixConfDir: string, pidFiles: string[]): void {
  if (existsSync(join(postfixConfDir, 'main.cf'))) {
    try {
      execFileSync('postfix', ['-c', postfixConfDir, 'abort'], { stdio: 'ignore' });
    } catch {
      // not running
    }
  }
  for (const pidFile of pidFiles) {
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
    if (pid > 0 && pidAlive(pid)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        process.kill(pid, 'SIGKILL');
      }
    }
  }
}

async function refuseBusyPorts(): Promise<void> {
  const busy: string[] = [];
  for (const [what, port] of Object.entries(LOCAL_PORTS)) if (await listening(port)) busy.push(`${port} (${what})`);
  if (busy.length > 0)
    throw new StartRefused(`these loopback ports are already in use: ${busy.join(', ')}. Stop whatever holds them (\`ss -ltnp\` tells), then start again.`);
}

function banner(config: AppConfig, stateDir: string, deliveredDir: string, clamdDatabase: string): string {
  // Assembled at run time, as in the tests, so the repository holds no "virus".
  const eicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
  const gtube = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*' + 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
  const swaks = `swaks --server 127.0.0.1:${LOCAL_PORTS.smtp} --from someone@example.net --to user@${DOMAIN}`;
  return `mailfilter is running on loopback (state in ${stateDir}):
  front door    Postfix on 127.0.0.1:${config.postfix.smtpPort} (its config: ${config.postfix.configDir})
  filter        LMTP 127.0.0.1:${config.filter.listenPort}, re-injecting to Postfix on 127.0.0.1:${config.postfix.reinjectPort}
  clamd         ${config.clamd.socket}, with ${clamdDatabase}
  spamd         127.0.0.1:${config.spamd.port}
  final server  127.0.0.1:${LOCAL_PORTS.sink}, a sink that keeps each delivered message in ${deliveredDir}/
  viewer        https://127.0.0.1:${config.viewer.httpsPort}/viewer/  log in as vadmin / password (self-signed certificate)

Try it (mail for @${DOMAIN} is accepted):
  ${swaks} --header 'Subject: EICAR test' --attach-type application/octet-stream --attach-name eicar.com --attach '${eicar}'
  ${swaks} --header 'Subject: GTUBE test' --body '${gtube}'
  ${swaks} --header 'Subject: hello'
The EICAR message is held (see the viewer), GTUBE is delivered tagged ***SPAM***, hello is delivered.
Ctrl-C stops everything.`;
}

export async function startLocalAppliance(stateDir: string, configured?: AppConfig): Promise<LocalAppliance> {
  stateDir = resolve(stateDir);
  mkdirSync(stateDir, { recursive: true });
  const serviceDir = serviceDirFor(stateDir);
  mkdirSync(serviceDir, { recursive: true });
  const config = configured ?? localConfig(stateDir, serviceDir);
  if (process.getuid?.() !== 0) throw new StartRefused('mailfilter start runs a private Postfix, which needs root: run it as root (sudo npm start).');
  const [clamdDir, spamdDir, postfixDir] = [join(stateDir, 'clamd'), join(serviceDir, 'spamd'), join(serviceDir, 'postfix')];
  const releaseLock = takeLock(stateDir, () => stopLeftovers(config.postfix.configDir, [join(clamdDir, 'clamd.pid'), join(spamdDir, 'spamd.pid')]));
  // Every server started from here carries this marker, so that nothing it leaves can hide.
  process.env.MAILFILTER_RUN_ID ??= `start-${randomBytes(6).toString('hex')}`;
  try {
    await refuseBusyPorts();
    const deliveredDir = join(stateDir, 'delivered');
    return await startingAll(async (servers: ServerSet) => {
      const [clamd] = await servers.startTogether<[Clamd, Spamd, Sink]>([
        startClamd(clamdDir, { database: 'machine-if-any' }),
        startSpamd(spamdDir, { port: config.spamd.port }),
        startSink({ port: LOCAL_PORTS.sink, keepDir: deliveredDir }),
      ]);
      servers.add(await startPostfix(postfixDir, config));
      // Loaded only now: `mailfilter start --help` and a refused start stay quick.
      const { startFilter } = await import('../filter/daemon.js');
      const { startViewer } = await import('../viewer/server.js');
      const filter = await startFilter(config);
      servers.add({ name: 'filter', stop: () => filter.close() });
      const viewer = await startViewer(config);
      servers.add({ name: 'viewer', stop: () => viewer.close() });
      servers.add({ name: 'lock', stop: async () => releaseLock() });
      return {
        config,
        stateDir,
        deliveredDir,
        banner: banner(config, stateDir, deliveredDir, clamd.database),
        stop: () => servers.stopAll(),
      };
    });
  } catch (err) {
    releaseLock();
    throw err;
  }
}
