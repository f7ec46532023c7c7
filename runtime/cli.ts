#!/usr/bin/env node
// The `mailfilter` command: one subcommand per daemon or tool, nothing else.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_CONFIG_PATH, defaultConfig, loadConfig } from './config/load.js';
import type { AppConfig } from './config/schema.js';
import { logger } from './log.js';

const log = logger('mailfilter');

const USAGE = `usage: mailfilter <command> [--config FILE]

commands:
  filter                 run the content filter (Postfix hands it every message over LMTP)
  policy                 run the greylisting policy service Postfix asks at RCPT (greylist.enabled)
  viewer                 run the quarantine viewer (HTTPS, https://<host>/viewer/)
  directory-sync [-c]    recipient map and viewer users from Exchange/AD (-c: redraw directory users)
  digest [--force]       send the quarantine digests that are due (hourly timer; --force: every user's now, unless off)
  door-stats [LOGFILE]   count what the front door refused per day from Postfix's log (/var/log/mail.log; 5-minute timer)
  fetch [--once]         poll the POP3/IMAP mailboxes of the accounts file and inject into Postfix
  start                  try it without a VM: Postfix (127.0.0.1:2525), clamd, spamd, the filter, the viewer
                         and a sink for delivered mail, on loopback, state in ./var ($MAILFILTER_STATE_DIR)
  configure [--answers FILE] [--root DIR] [--no-restart]
                         the setup wizard (or an answers file), then apply with progress
  status                 one screen: services, queues, virus database and rules age, disk, certificate,
                         the latest deferrals, fetch mode's set-aside messages, the viewer's address
  check-config [FILE]    validate the appliance config and print the problems
  render --root DIR      render the system config files (Postfix, ...) from the config into DIR
  admin-password         give vadmin a random password (shown once) if it still has the initial one, where
                         storage.backend says (apply does this; run it when apply could not reach the database)
  storage migrate --to postgresql
                         copy this appliance's quarantine, greylisting state and viewer database (users,
                         lists, audit, requests, settings) into the shared PostgreSQL of storage.url
  cluster join URL [--ca-file FILE] [--copy|--no-copy] [--no-restart]
                         share the PostgreSQL at URL with other appliances: check its schema, copy this
                         node's quarantine if asked, write storage.* and wait for this node's heartbeat
  cluster check URL [--ca-file FILE]
                         connect and say what joining would find (nothing is changed)
  cluster leave [--no-restart]
                         back to this appliance's own quarantine (SQLite); the shared data stays there
  cluster nodes          the nodes sharing the database: last heartbeat, release, Postfix queue
  cluster forget NAME [--force]
                         take a dead node off the list of nodes

The config is read from --config, $MAILFILTER_CONFIG, or ${DEFAULT_CONFIG_PATH}.
A cluster URL left out is read from $MAILFILTER_STORAGE_URL (keeps the password out of ps and shell history).`;

function configPath(given: string | undefined): string | undefined {
  const path = given ?? process.env.MAILFILTER_CONFIG ?? DEFAULT_CONFIG_PATH;
  return given || process.env.MAILFILTER_CONFIG || existsSync(path) ? path : undefined;
}

function readConfig(given: string | undefined): AppConfig {
  const path = configPath(given);
  if (path) return loadConfig(path);
  log.warn('no config file, using embedded defaults', { looked_for: DEFAULT_CONFIG_PATH });
  return defaultConfig();
}

// `-c` is the manual's `directory-sync -c` (redraw directory users); the config has only --config.
const OPTIONS = {
  answers: { type: 'string' },
  'no-restart': { type: 'boolean' },
  once: { type: 'boolean' },
  force: { type: 'boolean' },
  clear: { type: 'boolean', short: 'c' },
  config: { type: 'string' },
  root: { type: 'string' },
  to: { type: 'string' },
  'ca-file': { type: 'string' },
  copy: { type: 'boolean' },
  'no-copy': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Unknown options are refused by parseArgs; an option given twice is refused here, not silently overridden. */
function parseOptions(args: string[]) {
  const parsed = parseArgs({ args, allowPositionals: true, strict: true, tokens: true, options: OPTIONS });
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) throw new UsageError(`option --${token.name} is given more than once`);
    seen.add(token.name);
  }
  return parsed;
}

class UsageError extends Error {}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

/** Starts a daemon with the config and keeps it running until a signal closes it (-1: do not exit). */
async function runDaemon(start: (config: AppConfig) => Promise<{ close(): Promise<void> }>, configPath: string | undefined): Promise<number> {
  const daemon = await start(readConfig(configPath));
  onSignals(() => daemon.close());
  return -1;
}

const CLUSTER_USAGE = 'usage: mailfilter cluster join URL [--ca-file FILE] | check URL | leave | nodes | forget NAME';

/** `mailfilter cluster ...`: joining and leaving the shared database, and its list of nodes. */
async function cluster(positionals: string[], values: ReturnType<typeof parseOptions>['values']): Promise<number> {
  const [sub, argument] = positionals;
  const membership = await import('./cluster/membership.js');
  const { parsePostgresUrl } = await import('./config/fields.js');
  const say = (line: string) => console.log(line);
  const url = () => {
    const given = argument ?? process.env.MAILFILTER_STORAGE_URL;
    if (!given) throw new UsageError(`cluster ${sub} needs the database's URL (postgresql://user:password@host:5432/database)`);
    try {
      parsePostgresUrl(given);
    } catch (err) {
      throw new Error(`storage.url: ${(err as Error).message}`);
    }
    return given;
  };
  const options = () => {
    const path = configPath(values.config);
    if (!path || !existsSync(path)) throw new Error(`no config file at ${path ?? DEFAULT_CONFIG_PATH}: run \`mailfilter configure\` first`);
    const root = values.root ?? '/';
    return { configPath: path, root, restart: root === '/' && !values['no-restart'], say };
  };
  switch (sub) {
    case 'join': {
      if (values.copy && values['no-copy']) throw new UsageError('give --copy or --no-copy, not both');
      await membership.joinCluster({
        ...options(),
        url: url(),
        caFile: values['ca-file'] ?? '',
        copyQuarantine: values.copy ? true : values['no-copy'] ? false : undefined,
        ask: askYesNo,
      });
      return 0;
    }
    case 'check': {
      const { inspectSharedDatabase, newerSchemaProblem, nodeLine, schemaLine } = await import('./cluster/probe.js');
      const state = await inspectSharedDatabase({ backend: 'postgresql', url: url(), caFile: values['ca-file'] ?? '' });
      if (state.verdict === 'newer') throw new Error(newerSchemaProblem(state));
      say(schemaLine(state));
      for (const node of state.nodes) say(`  ${nodeLine(node, state.now)}`);
      return 0;
    }
    case 'leave':
      await membership.leaveCluster(options());
      return 0;
    case 'nodes':
      await membership.showNodes(readConfig(values.config), say);
      return 0;
    case 'forget':
      if (!argument) throw new UsageError("cluster forget needs the node's name (as `mailfilter cluster nodes` lists it)");
      await membership.forgetClusterNode(readConfig(values.config), argument, values.force === true, say);
      return 0;
    default:
      throw new UsageError(CLUSTER_USAGE);
  }
}

/** A Yes/No question on the terminal; without one, the admin must have answered with an option. */
async function askYesNo(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new UsageError(`${question.replace(/ \(Yes\/No\).*$/, '')}: answer with --copy or --no-copy (no terminal to ask on)`);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    for (;;) {
      const answer = (await rl.question(`${question}: `)).trim().toLowerCase();
      if (answer === '' || answer === 'y' || answer === 'yes') return true;
      if (answer === 'n' || answer === 'no') return false;
    }
  } finally {
    rl.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') {
    console.log(USAGE);
    return 0;
  }
  const { values, positionals } = parseOptions(rest);
  if (!command || values.help || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  switch (command) {
    // Each daemon loads only its own modules: the filter's memory is not the viewer's too.
    case 'filter':
      return runDaemon((await import('./filter/daemon.js')).startFilter, values.config);
    case 'policy':
      return runDaemon((await import('./policy/daemon.js')).startPolicy, values.config);
    case 'viewer':
      return runDaemon((await import('./viewer/server.js')).startViewer, values.config);
    case 'directory-sync': {
      const { ViewerAccounts } = await import('./accounts/viewer-accounts.js');
      const { openViewerDb } = await import('./storage/open-viewer.js');
      const { openSharedHandle } = await import('./storage/shared-handle.js');
      const { syncDirectory } = await import('./directory/sync.js');
      const config = readConfig(values.config);
      if (!config.directory.enabled) throw new Error('Exchange/LDAP integration is off (directory.enabled is false in the config)');
      const shared = config.viewer.enabled ? openSharedHandle(config, { name: 'mailfilter-directory-sync', maxConnections: 2 }) : null;
      const viewerDb = config.viewer.enabled ? await openViewerDb(config, shared) : null;
      try {
        const accounts = viewerDb ? await ViewerAccounts.open(viewerDb.db, config.viewer.sessionHours, config.viewer.sessionMaxHours) : null;
        const report = await syncDirectory(config, accounts, { clear: values.clear === true }, logger('directory'));
        console.log(
          `${report.addresses} addresses from ${report.entries} directory entries written to ${report.mapPath}; ${report.usersCreated} viewer users created${values.clear ? `, ${report.usersCleared} redrawn` : ''}.`,
        );
      } finally {
        await viewerDb?.close();
        await shared?.close();
      }
      return 0;
    }
    case 'door-stats': {
      const { collectAsConfigured, DEFAULT_MAIL_LOG } = await import('./door-stats/collect.js');
      const logPath = positionals[0] ?? DEFAULT_MAIL_LOG;
      const report = await collectAsConfigured(readConfig(values.config), logPath);
      console.log(`${report.counted} refusal(s) counted from ${report.lines} new line(s) of ${logPath}.`);
      return 0;
    }
    case 'digest': {
      const { openActionServices } = await import('./actions/services.js');
      const { runDigestsOnce } = await import('./digest/once-per-cluster.js');
      const config = readConfig(values.config);
      if (!config.viewer.enabled) throw new Error('the viewer is off (viewer.enabled is false): digests link to it, so none are sent');
      const services = await openActionServices(config, 'mailfilter-digest');
      try {
        const run = await runDigestsOnce(services, logger('digest'), { force: values.force === true });
        if (!run.ran) {
          console.log(
            `No digests sent here: ${run.heldBy ?? 'another node'} holds the digest lease (it is sending them, or sent them less than half an hour ago).`,
          );
          return 0;
        }
        const { reports } = run;
        const sent = reports.filter((r) => r.outcome === 'sent');
        console.log(
          `${sent.length} digest(s) sent, ${reports.filter((r) => r.outcome === 'failed').length} failed, ${reports.length - sent.length} user(s) with nothing due or nothing held.`,
        );
        return reports.some((r) => r.outcome === 'failed') ? 1 : 0;
      } finally {
        await services.close();
      }
    }
    case 'fetch': {
      const { startFetcher } = await import('./fetch/daemon.js');
      const fetcher = startFetcher(readConfig(values.config), { schedule: !values.once });
      if (values.once) {
        const outcomes = await fetcher.pollNow();
        await fetcher.close();
        return outcomes.every((o) => o.ok) ? 0 : 1;
      }
      onSignals(() => fetcher.close());
      return -1;
    }
    case 'start': {
      const { startLocalAppliance } = await import('./local/appliance.js');
      const stateDir = resolve(process.env.MAILFILTER_STATE_DIR ?? 'var');
      const appliance = await startLocalAppliance(stateDir, values.config ? loadConfig(values.config) : undefined);
      console.log(appliance.banner);
      onSignals(() => appliance.stop());
      return -1;
    }
    case 'configure': {
      const { configure } = await import('../firstboot/configure.js');
      const root = values.root ?? '/';
      return configure({ root, ...(values.answers ? { answersFile: values.answers } : {}), restart: root === '/' && !values['no-restart'] });
    }
    case 'status': {
      // Services, queue, virus database and spam rules, disk, certificate, deferrals, viewer URL.
      const { gatherStatus, formatStatus } = await import('./status/report.js');
      console.log(formatStatus(await gatherStatus(readConfig(values.config))).join('\n'));
      return 0;
    }
    case 'check-config': {
      const path = positionals[0] ?? configPath(values.config) ?? DEFAULT_CONFIG_PATH;
      loadConfig(path);
      console.log(`${path}: ok`);
      return 0;
    }
    case 'admin-password': {
      // What apply does, for when it could not (a shared database that did not answer then).
      const { setInitialAdminPassword } = await import('./accounts/admin-password.js');
      const password = await setInitialAdminPassword(readConfig(values.config));
      console.log(password ? `vadmin's password is now: ${password}  (shown only this once: write it down)` : "vadmin's password was set before: kept");
      return 0;
    }
    case 'storage': {
      if (positionals[0] !== 'migrate' || values.to !== 'postgresql') throw new UsageError('usage: mailfilter storage migrate --to postgresql');
      const { migrateToShared } = await import('./storage/migrate-to-shared.js');
      await migrateToShared(readConfig(values.config), (line) => console.log(line));
      return 0;
    }
    case 'cluster':
      return cluster(positionals, values);
    case 'render': {
      if (!values.root) throw new Error('render needs --root DIR (use / on the appliance)');
      const { renderAll, writeRendered } = await import('./render/render.js');
      for (const path of await writeRendered(renderAll(readConfig(values.config)), values.root)) console.log(path);
      return 0;
    }
    default:
      console.error(`mailfilter: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: Error) => {
    if (err instanceof ConfigError) console.error(err.message);
    else if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))
      console.error(`mailfilter: ${err.message}\n\n${USAGE}`);
    else console.error(`mailfilter: ${err.message}`);
    process.exitCode = 1;
  },
);
