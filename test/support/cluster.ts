// Several appliances sharing one PostgreSQL, each a whole chain of its own on loopback: its own
// private Postfix, filter, viewer over HTTPS, folders and ports, all with storage.backend
// postgresql and the same URL. The filter runs as a process of its own (`mailfilter filter`), so
// that a test can kill a node mid-write. The scanners, the organisation's mail server and the DNS
// are chain.ts's backends, started once for all nodes: one clamd and one spamd instead of two keep
// a 2-core machine usable, and nothing in the cases depends on a node's scanners being its own.
import { execFile } from 'node:child_process';
import { writeFileSync, mkdirSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseConfig } from '../../runtime/config/load.js';
import type { AppConfig } from '../../runtime/config/schema.js';
import { spawnServer, type ChildServer, type ServerSet } from '../../runtime/local/servers.js';
import { startViewer, type RunningViewer } from '../../runtime/viewer/server.js';
import { chainSettings, sendTo, type ChainBackends, type SendOutcome } from './chain.js';
import { freePort, listening } from './net.js';
import { startPostfix, type Postfix } from './postfix.js';
import { httpsTransport, ViewerBrowser } from './viewer-browser.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

export interface ClusterNode {
  /** "a", "b": also in its host name, mx-<name>.company.com, which its Postfix writes in Received. */
  name: string;
  hostname: string;
  config: AppConfig;
  configFile: string;
  postfix: Postfix;
  viewer: RunningViewer;
  /** A new client of this node's viewer, over HTTPS from 127.0.0.1. */
  browser(): ViewerBrowser;
  send(message: string, envelope: { from: string; to: string[] }): Promise<SendOutcome>;
  /** SIGKILL to the filter's process: the node dies with whatever it was writing half-done. */
  killFilter(): Promise<void>;
  /** Starts the filter again (after killFilter), with the same config. */
  startFilter(): Promise<void>;
  /** What the filter process logged. */
  filterLog(): string;
  /** `mailfilter digest` with this node's config, as its hourly timer runs it; what it printed. */
  runDigest(): Promise<string>;
}

/**
 * Starts one node in `dir` on the shared `backends` and database; everything it starts is added
 * to `servers`. `overrides` are merged into its config as chain.ts merges them.
 */
export async function startClusterNode(
  servers: ServerSet,
  dir: string,
  name: string,
  backends: ChainBackends,
  storage: { url: string; caFile: string },
  overrides: Record<string, Record<string, unknown>> = {},
): Promise<ClusterNode> {
  mkdirSync(dir, { recursive: true });
  // Postfix's daemons run as the postfix user and must reach their folders below this one.
  chmodSync(dir, 0o755);
  const hostname = `mx-${name}.company.com`;
  const raw = await chainSettings(dir, backends, {
    ...overrides,
    network: { hostname, ...overrides.network },
    storage: { backend: 'postgresql', url: storage.url, caFile: storage.caFile },
    viewer: { listenAddress: '127.0.0.1', httpsPort: await freePort(), httpPort: 0, ...overrides.viewer },
  });
  const config = parseConfig(raw, `cluster node ${name}`);
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(raw, null, 2));
  const postfix = servers.add(await startPostfix(join(dir, 'postfix'), config, { resolvConf: backends.dns.resolvConf }));

  const logFile = join(dir, 'filter.log');
  let filter: ChildServer | undefined;
  const startFilter = async () => {
    const started = spawnServer(
      `filter (node ${name})`,
      process.execPath,
      ['--import', 'tsx', join(REPO, 'runtime/cli.ts'), 'filter', '--config', configFile],
      {
        logFile,
        cwd: REPO,
      },
    );
    filter = started;
    // Loading the filter's modules through tsx takes a while on a busy machine.
    await started.ready('the filter to listen', () => listening(config.filter.listenPort), 120_000);
  };
  servers.add({ name: `filter (node ${name})`, stop: async () => filter?.stop() });
  await startFilter();

  const viewer = await startViewer(config);
  servers.add({ name: `viewer (node ${name})`, stop: () => viewer.close() });
  return {
    name,
    hostname,
    config,
    configFile,
    postfix,
    viewer,
    browser: () => new ViewerBrowser(httpsTransport(viewer.httpsPort)),
    send: (message, envelope) => sendTo(config.postfix.smtpPort, message, envelope),
    async killFilter() {
      const killed = filter;
      if (killed?.child.pid === undefined) throw new Error(`node ${name} has no filter process to kill`);
      process.kill(-killed.child.pid, 'SIGKILL');
      // Waits for the exit (and forgets the process).
      await killed.stop();
    },
    startFilter,
    filterLog: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    async runDigest() {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', join(REPO, 'runtime/cli.ts'), 'digest', '--config', configFile], {
        cwd: REPO,
        timeout: 120_000,
      });
      return stdout;
    },
  };
}

/** vadmin's password once a test has changed the initial one (the viewer insists, at the first login). */
export const ADMIN_PASSWORD = 'cluster-admin-password-1';

/**
 * A browser logged in to the node's viewer as vadmin. At the first login on a database vadmin
 * still has its initial password, allowed from loopback only and changed at once, as the viewer
 * requires; once vadmin's account is shared, a later node's login finds it changed already.
 */
export async function adminBrowser(node: Pick<ClusterNode, 'name' | 'browser'>): Promise<ViewerBrowser> {
  const browser = node.browser();
  const login = await browser.login('vadmin', ADMIN_PASSWORD);
  if (login.status === 303) return browser;
  const first = await browser.login('vadmin', 'password');
  if (first.status !== 303) throw new Error(`vadmin cannot log in to node ${node.name}'s viewer (${first.status}): ${first.text.slice(0, 300)}`);
  if (first.location?.endsWith('/account/password')) {
    const changed = await browser.request('/viewer/account/password', {
      form: { _csrf: await browser.csrf('/viewer/account/password'), current: 'password', next: ADMIN_PASSWORD, again: ADMIN_PASSWORD },
    });
    if (changed.status !== 303)
      throw new Error(`vadmin's initial password was not changed on node ${node.name} (${changed.status}): ${changed.text.slice(0, 300)}`);
  }
  return browser;
}
