// The whole chain on loopback, as on the appliance: real Postfix -> our filter (LMTP) -> real clamd
// and spamd -> Postfix re-injection -> a sink standing in for the organisation's mail server.
import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { parseConfig } from '../../runtime/config/load.js';
import type { AppConfig } from '../../runtime/config/schema.js';
import { startFilter, type RunningFilter } from '../../runtime/filter/daemon.js';
import { startClamd, type Clamd } from './clamd.js';
import { startSpamd, type Spamd } from './spamd.js';
import { startSink, type Sink } from './sink.js';
import { startPostfix, type Postfix } from './postfix.js';
import { freePort } from './net.js';
import { startDns, type DnsRecord, type DnsServer } from './dns.js';
import { startingAll, type ServerSet } from '../../runtime/local/servers.js';

export interface Chain {
  dir: string;
  config: AppConfig;
  clamd: Clamd;
  spamd: Spamd;
  sink: Sink;
  postfix: Postfix;
  /** The only DNS server the chain's Postfix asks. */
  dns: DnsServer;
  filter: RunningFilter;
  /** Restarts the filter with these policy settings (the rest of the chain keeps running). */
  usePolicy(policy: Partial<AppConfig['policy']>): Promise<void>;
  /** Stops the filter: Postfix defers what it hands over until `usePolicy` starts it again. */
  stopFilter(): Promise<void>;
  send(raw: string, envelope: { from: string; to: string[] }, options?: { localAddress?: string }): Promise<SendOutcome>;
  stop(): Promise<void>;
}

export interface SendOutcome {
  accepted: string[];
  rejected: string[];
  response: string;
  error?: Error & { responseCode?: number; response?: string };
}

export interface ChainOptions {
  /** Extra spamd arguments (a test of a setup that fails passes a bad one). */
  spamdArgs?: string[];
  /** Records the chain's DNS server serves besides the test domains' (DNSBL listings, SPF, …). */
  dnsRecords?: DnsRecord[];
}

/** Test senders' domains exist (reject_unknown_sender_domain); everything else is NXDOMAIN. */
const TEST_DOMAINS: DnsRecord[] = ['example.net', 'example.org', 'example.com', 'company.com', 'company.local'].map((name) => ({
  name,
  type: 'A' as const,
  data: '192.0.2.1',
}));

/**
 * `overrides` are merged into the chain's config, section by section. If any part fails to start,
 * the parts already started are stopped before the error is thrown.
 */
export async function startChain(overrides: Record<string, Record<string, unknown>> = {}, options: ChainOptions = {}): Promise<Chain> {
  const dir = mkdtempSync(join(tmpdir(), 'mailfilter-chain-'));
  // Postfix's daemons run as the postfix user and must reach their folders below this one.
  chmodSync(dir, 0o755);
  try {
    return await startingAll((servers) => startChainIn(dir, servers, overrides, options));
  } catch (err) {
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** What several chains can share: the scanners, the organisation's mail server and the DNS. */
export interface ChainBackends {
  clamd: Clamd;
  spamd: Spamd;
  sink: Sink;
  dns: DnsServer;
}

/** Starts clamd, spamd, the sink and the DNS server together; each is added to `servers`. */
export function startBackends(dir: string, servers: ServerSet, options: ChainOptions = {}): Promise<ChainBackends> {
  return servers
    .startTogether<[Clamd, Spamd, Sink, DnsServer]>([
      startClamd(join(dir, 'clamd')),
      startSpamd(join(dir, 'spamd'), { extraArgs: options.spamdArgs ?? [] }),
      startSink(),
      startDns(join(dir, 'dns'), [...TEST_DOMAINS, ...(options.dnsRecords ?? [])]),
    ])
    .then(([clamd, spamd, sink, dns]) => ({ clamd, spamd, sink, dns }));
}

/**
 * One chain's config before parsing, with free ports of its own and every folder inside `dir`;
 * `overrides` are merged in section by section.
 */
export async function chainSettings(
  dir: string,
  { clamd, spamd, sink, dns }: ChainBackends,
  overrides: Record<string, Record<string, unknown>> = {},
): Promise<Record<string, Record<string, unknown>>> {
  const [smtpPort, reinjectPort, filterPort] = [await freePort(), await freePort(), await freePort()];
  const raw = {
    network: { hostname: 'mx.company.com' },
    mail: {
      mode: 'smtp',
      externalDomain: 'company.com',
      internalDomain: 'company.local',
      finalServer: '127.0.0.1',
      finalServerPort: sink.port,
      relayDomains: ['company.com', 'company.local'],
      allowedNetworks: 'host',
    },
    postfix: { configDir: join(dir, 'postfix', 'conf'), smtpPort, reinjectPort },
    filter: { listenPort: filterPort, spoolDir: join(dir, 'spool'), maxConnections: 4 },
    quarantine: { dir: join(dir, 'quarantine') },
    // The viewer's database holds the sender lists the filter reads.
    viewer: { dataDir: join(dir, 'viewer') },
    clamd: { socket: clamd.socket, timeoutSeconds: 30 },
    spamd: { port: spamd.port, timeoutSeconds: 60 },
    // SPF, DKIM, DMARC and ARC are checked against the tests' DNS server too.
    auth: { dnsServer: dns.address, dnsTimeoutSeconds: 2 },
  } as Record<string, Record<string, unknown>>;
  for (const [section, values] of Object.entries(overrides)) raw[section] = { ...(raw[section] ?? {}), ...values };
  return raw;
}

/** Hands a message to the Postfix front door on `smtpPort`, as a sending server would. */
export async function sendTo(
  smtpPort: number,
  message: string,
  envelope: { from: string; to: string[] },
  options: { localAddress?: string } = {},
): Promise<SendOutcome> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: smtpPort,
    ignoreTLS: true,
    name: 'client.example.net',
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  try {
    const info = await transport.sendMail({ envelope, raw: message });
    return { accepted: info.accepted.map(String), rejected: info.rejected.map(String), response: info.response };
  } catch (err) {
    return { accepted: [], rejected: envelope.to, response: (err as { response?: string }).response ?? String(err), error: err as SendOutcome['error'] };
  } finally {
    transport.close();
  }
}

async function startChainIn(dir: string, servers: ServerSet, overrides: Record<string, Record<string, unknown>>, options: ChainOptions): Promise<Chain> {
  const backends = await startBackends(dir, servers, options);
  const { clamd, spamd, sink, dns } = backends;
  const raw = await chainSettings(dir, backends, overrides);
  let config = parseConfig(raw, 'test chain');
  const postfix = servers.add(await startPostfix(join(dir, 'postfix'), config, { resolvConf: dns.resolvConf }));
  let filter: RunningFilter | undefined = await startFilter(config);
  const stopFilter = async () => {
    const running = filter;
    filter = undefined;
    await running?.close();
  };
  servers.add({ name: 'filter', stop: stopFilter });
  const chain: Chain = {
    dir,
    config,
    clamd,
    spamd,
    sink,
    postfix,
    dns,
    filter,
    stopFilter,
    async usePolicy(policy) {
      await stopFilter();
      config = parseConfig({ ...raw, policy }, 'test chain');
      filter = await startFilter(config);
      chain.filter = filter;
      chain.config = config;
    },
    send: (message, envelope, options = {}) => sendTo(config.postfix.smtpPort, message, envelope, options),
    async stop() {
      try {
        await servers.stopAll();
      } finally {
        if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return chain;
}

/** A subject no other message of the run has, to wait for this one's delivery. */
export const uniqueSubject = (label: string): string => `${label} ${randomBytes(4).toString('hex')}`;

/** The delivered message whose text holds this subject, once the sink has it. */
export const arrivalOf = (chain: Chain, subject: string) => chain.sink.waitFor((m) => m.raw.includes(subject), 90_000);

/** After the file's tests: stops what `stop` stops (the chain, last), then removes the folders, even when stopping fails. */
export function stopAfterTests(stop: () => Promise<unknown> | undefined, ...dirs: string[]): void {
  after(
    async () => {
      try {
        await stop();
      } finally {
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      }
    },
    { timeout: 120_000 },
  );
}
