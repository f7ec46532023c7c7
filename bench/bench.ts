// `npm run bench`: our content filter and Debian's amavisd-new side by side, in one run, on the same
// Postfix, clamd and spamd, driven by Postfix's smtp-source into Postfix's smtp-sink.
// Peers measured in the same run: smtp-source straight into smtp-sink (the ceiling), and Postfix
// with no content filter. Figures are reported as ratios against them.
//   BENCH_FULL=1   sizes 2 KB, 50 KB, 1 MB, 25 MB and concurrency 1, 10, 50 (long)
//   default        sizes 2 KB and 1 MB, concurrency 10
//   BENCH_SIZES=2048,26214400 BENCH_SESSIONS=1 BENCH_NAME=25mb   a chosen subset, reported apart
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../runtime/config/load.js';
import { startClamd } from '../test/support/clamd.js';
import { startSpamd } from '../test/support/spamd.js';
import { startPostfix, type Postfix } from '../test/support/postfix.js';
import { freePort, listening, waitFor } from '../test/support/net.js';
import { stopChild } from '../test/support/process.js';
import { lmtpLoad } from './lmtp-load.js';
import { LOAD_LIMITS, relayingTo } from './relay-settings.js';

type Profile = 'passthrough' | 'clamav' | 'clamav+spamassassin';
type Peer = 'ceiling' | 'postfix' | 'filter-alone' | 'mailfilter' | 'amavisd-new';

interface Run {
  peer: Peer;
  profile: Profile | '-';
  sizeBytes: number;
  sessions: number;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  messagesPerCpuSecond: number | null;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  filterPeakRssMb: number | null;
  /** spamd's processes (parent and children), for the SpamAssassin profile of our filter. */
  spamdPeakRssMb: number | null;
  /** Peak proportional set size (shared pages split between the processes sharing them), sampled. */
  filterPeakPssMb: number | null;
  spamdPeakPssMb: number | null;
  /** Messages per second of busy CPU on the whole machine: Postfix, filter and scanners together. */
  systemMessagesPerCpuSecond: number | null;
  eventLoopLagP99Ms: number | null;
}

const FULL = process.env.BENCH_FULL === '1';
/** Where a run's figures go: bench/results/<name>.json and docs/<report>.md. */
const RESULTS_NAME = process.env.BENCH_NAME ?? 'latest';
const REPORT_NAME = process.env.BENCH_NAME ? `benchmarks-${process.env.BENCH_NAME}` : 'benchmarks';
const AMAVISD = '/usr/sbin/amavisd'; // Debian's amavisd-new
const listOf = (name: string) =>
  process.env[name]
    ?.split(',')
    .map(Number)
    .filter((n) => n > 0);
const SIZES = listOf('BENCH_SIZES') ?? (FULL ? [2048, 51200, 1048576, 26214400] : [2048, 1048576]);
const SESSIONS = listOf('BENCH_SESSIONS') ?? (FULL ? [1, 10, 50] : [10]);
const PROFILES: Profile[] = ['passthrough', 'clamav', 'clamav+spamassassin'];
const dir = mkdtempSync(join(tmpdir(), 'mailfilter-bench-'));
chmodSync(dir, 0o755);
const children: ChildProcess[] = [];

function messagesFor(size: number, sessions: number): number {
  const base = size <= 4096 ? 400 : size <= 65536 ? 200 : size <= 2 * 1048576 ? 40 : 6;
  return Math.max(base, sessions * 2);
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** utime+stime in seconds, and peak RSS in MB, of these processes (from /proc). */
function processFigures(pids: number[]): { cpu: number; peakRssMb: number } {
  let cpu = 0;
  let rss = 0;
  const tick = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      cpu += (Number(stat[11]) + Number(stat[12])) / tick;
      rss += Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    } catch {
      // the process ended
    }
  }
  return { cpu, peakRssMb: Math.round(rss) };
}

/** Sum of the processes' proportional set sizes in MB (/proc/<pid>/smaps_rollup). */
function pssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // the process ended
    }
  }
  return kb / 1024;
}

/** Samples the peak PSS of some processes every 200 ms until stopped. */
function pssSampler(pids: () => number[]): { stop(): number } {
  let peak = pssMb(pids());
  const timer = setInterval(() => (peak = Math.max(peak, pssMb(pids()))), 200);
  return {
    stop() {
      clearInterval(timer);
      return Math.round(Math.max(peak, pssMb(pids())));
    },
  };
}

/** Busy CPU seconds of the whole machine so far (/proc/stat: all but idle and iowait). */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const tick = 100;
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / tick;
}

function pidsOf(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').map(Number).filter(Boolean);
  } catch {
    return [];
  }
}

/** smtp-source in the background, so the memory sampler keeps running meanwhile. */
function smtpSource(port: number, size: number, sessions: number, messages: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      'smtp-source',
      ['-s', String(sessions), '-m', String(messages), '-l', String(size), '-f', 'bench@example.net', '-t', 'bob@company.com', `127.0.0.1:${port}`],
      { stdio: 'ignore', timeout: 30 * 60_000 },
    );
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`smtp-source exited with ${code}`))));
  });
}

const NONE = { filterPeakPssMb: null, spamdPeakPssMb: null, systemMessagesPerCpuSecond: null } as const;

/** Counts final deliveries to the sink in a Postfix log, and collects the filter hop's transmission times. */
function readLog(postfix: Postfix, sinkPort: number, filterPort: number | null): { delivered: number; filterMs: number[] } {
  let delivered = 0;
  const filterMs: number[] = [];
  for (const line of postfix.log().split('\n')) {
    if (line.includes(`relay=127.0.0.1[127.0.0.1]:${sinkPort},`) && line.includes('status=sent')) delivered += 1;
    if (filterPort && line.includes(`relay=127.0.0.1[127.0.0.1]:${filterPort},`) && line.includes('status=sent')) {
      const d = /delays=[\d.]+\/[\d.]+\/[\d.]+\/([\d.]+)/.exec(line)?.[1];
      if (d) filterMs.push(Number(d) * 1000);
    }
  }
  return { delivered, filterMs };
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const clamd = await startClamd(join(dir, 'clamd'));
  const spamd = await startSpamd(join(dir, 'spamd'));
  const sinkPort = await freePort();
  const sink = spawn('smtp-sink', ['-u', 'postfix', `127.0.0.1:${sinkPort}`, '1024'], { stdio: 'ignore' });
  children.push(sink);
  await sleep(500);
  const runs: Run[] = [];
  const note = (run: Run) => {
    runs.push(run);
    console.log(
      `${run.peer.padEnd(12)} ${run.profile.padEnd(20)} ${String(run.sizeBytes).padStart(9)} B  x${String(run.sessions).padStart(2)}  ${run.messagesPerSecond.toFixed(1).padStart(8)} msg/s` +
        (run.latencyP50Ms !== null ? `  p50 ${run.latencyP50Ms.toFixed(0)} ms p99 ${run.latencyP99Ms!.toFixed(0)} ms` : '') +
        (run.filterPeakRssMb !== null ? `  rss ${run.filterPeakRssMb} MB` : '') +
        (run.eventLoopLagP99Ms !== null ? `  lag p99 ${run.eventLoopLagP99Ms} ms` : ''),
    );
  };

  // The ceiling: smtp-source straight into smtp-sink.
  for (const size of SIZES)
    for (const sessions of SESSIONS) {
      const messages = messagesFor(size, sessions);
      const started = process.hrtime.bigint();
      await smtpSource(sinkPort, size, sessions, messages);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      note({
        peer: 'ceiling',
        profile: '-',
        sizeBytes: size,
        sessions,
        messages,
        seconds,
        messagesPerSecond: messages / seconds,
        messagesPerCpuSecond: null,
        latencyP50Ms: null,
        latencyP99Ms: null,
        filterPeakRssMb: null,
        spamdPeakRssMb: null,
        eventLoopLagP99Ms: null,
        ...NONE,
      });
    }

  const postfixFor = async (name: string, filterPort: number, extra: (confDir: string) => void) => {
    const [smtpPort, reinjectPort] = [await freePort(), await freePort()];
    const config = parseConfig({
      ...relayingTo(sinkPort),
      postfix: { configDir: join(dir, name, 'conf'), smtpPort, reinjectPort },
      filter: { listenPort: filterPort, maxConnections: 50 },
    });
    const postfix = await startPostfix(join(dir, name), config);
    extra(postfix.confDir);
    execFileSync('postconf', ['-c', postfix.confDir, '-e', ...LOAD_LIMITS]);
    execFileSync('postfix', ['-c', postfix.confDir, 'reload']);
    return { postfix, config, smtpPort, reinjectPort };
  };

  const measure = async (
    peer: Peer,
    profile: Profile | '-',
    instance: { postfix: Postfix; smtpPort: number },
    filterPort: number | null,
    pids: () => number[],
    sizes = SIZES,
    lagReport?: () => Promise<number | null>,
  ) => {
    for (const size of sizes)
      for (const sessions of SESSIONS) {
        const messages = messagesFor(size, sessions);
        const before = readLog(instance.postfix, sinkPort, filterPort);
        const cpuBefore = processFigures(pids()).cpu;
        const busyBefore = machineBusySeconds();
        const filterPss = pssSampler(pids);
        const spamdPss = pssSampler(() => (profile === 'clamav+spamassassin' && peer === 'mailfilter' ? pidsOf('spamd') : []));
        const started = process.hrtime.bigint();
        await smtpSource(instance.smtpPort, size, sessions, messages);
        await waitFor(
          `${messages} messages at the sink (${peer}, ${profile})`,
          () => readLog(instance.postfix, sinkPort, filterPort).delivered >= before.delivered + messages,
          30 * 60_000,
          50,
        );
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const busy = machineBusySeconds() - busyBefore;
        const [filterPeakPss, spamdPeakPss] = [filterPss.stop(), spamdPss.stop()];
        const after = readLog(instance.postfix, sinkPort, filterPort);
        const figures = processFigures(pids());
        const latencies = after.filterMs.slice(before.filterMs.length);
        note({
          peer,
          profile,
          sizeBytes: size,
          sessions,
          messages,
          seconds,
          messagesPerSecond: messages / seconds,
          messagesPerCpuSecond: filterPort ? messages / Math.max(0.001, figures.cpu - cpuBefore) : null,
          latencyP50Ms: percentile(latencies, 50),
          latencyP99Ms: percentile(latencies, 99),
          filterPeakRssMb: filterPort ? figures.peakRssMb : null,
          spamdPeakRssMb: peer === 'mailfilter' && profile === 'clamav+spamassassin' ? processFigures(pidsOf('spamd')).peakRssMb : null,
          filterPeakPssMb: filterPort ? filterPeakPss : null,
          spamdPeakPssMb: peer === 'mailfilter' && profile === 'clamav+spamassassin' ? spamdPeakPss : null,
          systemMessagesPerCpuSecond: messages / Math.max(0.001, busy),
          eventLoopLagP99Ms: lagReport ? await lagReport() : null,
        });
      }
  };

  // Postfix alone, no content filter.
  const plain = await postfixFor('postfix-alone', await freePort(), (conf) => execFileSync('postconf', ['-c', conf, '-e', 'content_filter=']));
  await measure('postfix', '-', plain, null, () => []);
  await plain.postfix.stop();

  // Our filter alone, passthrough: LMTP load straight into it, re-injecting straight into smtp-sink.
  // Shows whether the filter or Postfix's own work is the limit in the rows below.
  {
    const alonePort = await freePort();
    const configPath = join(dir, 'mailfilter-alone.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        network: { hostname: 'mx.company.com' },
        filter: { listenPort: alonePort, checks: [], spoolDir: join(dir, 'spool-alone'), maxConnections: 50, maxMessageBytes: 64 * 1048576 },
        postfix: { reinjectPort: sinkPort },
        quarantine: { dir: join(dir, 'quarantine-alone') },
        viewer: { dataDir: join(dir, 'viewer-alone') },
      }),
    );
    const filter = spawn(process.execPath, ['dist/runtime/cli.js', 'filter', '--config', configPath], { stdio: 'ignore' });
    children.push(filter);
    await waitFor('our filter (alone) to listen', () => listening(alonePort), 30_000);
    for (const size of SIZES)
      for (const sessions of SESSIONS) {
        const messages = messagesFor(size, sessions);
        const cpuBefore = processFigures([filter.pid!]).cpu;
        const busyBefore = machineBusySeconds();
        const pss = pssSampler(() => [filter.pid!]);
        const { seconds, failed } = await lmtpLoad(alonePort, messages, sessions, size);
        if (failed > 0) throw new Error(`${failed} messages failed in the filter-alone run`);
        const busy = machineBusySeconds() - busyBefore;
        note({
          peer: 'filter-alone',
          profile: 'passthrough',
          sizeBytes: size,
          sessions,
          messages,
          seconds,
          messagesPerSecond: messages / seconds,
          messagesPerCpuSecond: messages / Math.max(0.001, processFigures([filter.pid!]).cpu - cpuBefore),
          latencyP50Ms: null,
          latencyP99Ms: null,
          filterPeakRssMb: processFigures([filter.pid!]).peakRssMb,
          spamdPeakRssMb: null,
          filterPeakPssMb: pss.stop(),
          spamdPeakPssMb: null,
          systemMessagesPerCpuSecond: messages / Math.max(0.001, busy),
          eventLoopLagP99Ms: null,
        });
      }
    await stopChild(filter);
  }

  // Postfix + our filter, one filter process per profile (so its peak RSS is the profile's).
  const ourPort = await freePort();
  const ours = await postfixFor('postfix-mailfilter', ourPort, () => undefined);
  for (const profile of PROFILES) {
    const checks = profile === 'passthrough' ? [] : profile === 'clamav' ? ['virus'] : ['virus', 'spam'];
    const configPath = join(dir, `mailfilter-${profile}.json`);
    writeFileSync(
      configPath,
      JSON.stringify({
        ...JSON.parse(JSON.stringify(ours.config)),
        filter: { ...ours.config.filter, checks, spoolDir: join(dir, 'spool'), maxMessageBytes: 64 * 1048576 },
        quarantine: { ...ours.config.quarantine, dir: join(dir, 'quarantine') },
        clamd: { ...ours.config.clamd, socket: clamd.socket },
        spamd: { ...ours.config.spamd, port: spamd.port },
        policy: { ...ours.config.policy, saMaxBodySize: 524288 },
      }),
    );
    const logFile = join(dir, `mailfilter-${profile}.log`);
    writeFileSync(logFile, '');
    const filter = spawn(process.execPath, ['dist/runtime/cli.js', 'filter', '--config', configPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MAILFILTER_LOG_LEVEL: 'info' },
    });
    children.push(filter);
    let stderr = '';
    filter.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitFor('our filter to listen', () => listening(ourPort), 30_000);
    const lagReport = async () => {
      const seen = stderr.length;
      filter.kill('SIGUSR2');
      await waitFor('the stats line', () => stderr.slice(seen).includes('stats'), 5000, 20).catch(() => undefined);
      return Number(/lag_p99_ms=([\d.]+)/.exec(stderr.slice(seen))?.[1] ?? NaN);
    };
    // Reset the lag window before each run: only the lag during the run counts.
    await lagReport();
    await measure('mailfilter', profile, ours, ourPort, () => [filter.pid!], SIZES, lagReport);
    await stopChild(filter);
  }
  await ours.postfix.stop();

  // Postfix + amavisd-new, same clamd, SpamAssassin in-process with local tests only, 2 children.
  if (existsSync(AMAVISD)) {
    const amavisPort = await freePort();
    const amavis = await postfixFor('postfix-amavis', amavisPort, (conf) => {
      execFileSync('postconf', ['-c', conf, '-e', `content_filter=smtp-amavis:[127.0.0.1]:${amavisPort}`]);
      execFileSync('postconf', ['-c', conf, '-M', `smtp-amavis/unix=smtp-amavis unix - - n - 2 smtp`]);
      for (const option of ['smtp_data_done_timeout=1200', 'smtp_send_xforward_command=yes', 'disable_dns_lookups=yes', 'max_use=20']) {
        execFileSync('postconf', ['-c', conf, '-P', `smtp-amavis/unix/${option}`]);
      }
    });
    for (const profile of PROFILES) {
      const home = join(dir, `amavis-${profile}`);
      for (const sub of ['', 'tmp', 'db', 'var']) mkdirSync(join(home, sub), { recursive: true });
      const amavisUid = Number(execFileSync('id', ['-u', 'amavis'], { encoding: 'utf8' }));
      const amavisGid = Number(execFileSync('id', ['-g', 'amavis'], { encoding: 'utf8' }));
      for (const sub of ['', 'tmp', 'db', 'var']) chownSync(join(home, sub), amavisUid, amavisGid);
      const bypass = (on: boolean) => (on ? '(1)' : '()');
      // amavisd refuses a config file in a folder its own user can write.
      const conf = join(dir, `amavisd-${profile}.conf`);
      writeFileSync(
        conf,
        `use strict;
$MYHOME = '${home}'; $TEMPBASE = '${home}/tmp'; $db_home = '${home}/db'; $helpers_home = '${home}/var';
$QUARANTINEDIR = undef; $pid_file = '${home}/amavisd.pid'; $lock_file = '${home}/amavisd.lock';
$daemon_user = 'amavis'; $daemon_group = 'amavis';
$mydomain = 'company.com'; $myhostname = 'mx.company.com';
$max_servers = ${cpus().length}; $max_requests = 1000;
$inet_socket_port = ${amavisPort}; @inet_acl = qw(127.0.0.1);
$forward_method = 'smtp:[127.0.0.1]:${amavis.reinjectPort}'; $notify_method = $forward_method;
$do_syslog = 0; $LOGFILE = '${home}/amavis.log'; $log_level = 0;
$enable_db = 0; $enable_dkim_verification = 0; $enable_dkim_signing = 0;
$sa_local_tests_only = 1; $sa_mail_body_size_limit = 524288; $sa_tag_level_deflt = -999; $sa_tag2_level_deflt = 6.31; $sa_kill_level_deflt = 6.31;
$final_virus_destiny = D_DISCARD; $final_banned_destiny = D_DISCARD; $final_spam_destiny = D_PASS; $final_bad_header_destiny = D_PASS;
@bypass_virus_checks_maps = ${bypass(profile === 'passthrough')};
@bypass_spam_checks_maps = ${bypass(profile !== 'clamav+spamassassin')};
@bypass_banned_checks_maps = ${bypass(profile === 'passthrough')};
@bypass_header_checks_maps = ${bypass(profile === 'passthrough')};
@av_scanners = (['ClamAV-clamd', \\&ask_daemon, ["CONTSCAN {}\\n", '${clamd.socket}'], qr/\\bOK$/m, qr/\\bFOUND$/m, qr/^.*?: (?!Infected Archive)(.*) FOUND$/m]);
@av_scanners_backup = ();
1;
`,
      );
      const daemon = spawn(AMAVISD, ['-c', conf, 'foreground'], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(daemon);
      await waitFor('amavisd-new to listen', () => listening(amavisPort), 120_000, 250);
      await measure(
        'amavisd-new',
        profile,
        amavis,
        amavisPort,
        () => pidsOf('amavisd \\('),
        SIZES.filter((s) => s <= 1048576 || FULL || process.env.BENCH_SIZES),
      );
      await stopChild(daemon);
      await sleep(1000);
    }
    await amavis.postfix.stop();
  } else {
    console.log('amavisd-new is not installed (apt-get install amavisd-new): its rows are missing');
  }

  await Promise.all([clamd.stop(), spamd.stop()]);
  for (const child of children) await stopChild(child);
  writeReport(runs);
}

function writeReport(runs: Run[]): void {
  mkdirSync('bench/results', { recursive: true });
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    postfix: execFileSync('postconf', ['-d', '-h', 'mail_version'], { encoding: 'utf8' }).trim(),
    clamd: execFileSync('clamd', ['--version'], { encoding: 'utf8' }).trim(),
    spamd: execFileSync('spamd', ['--version'], { encoding: 'utf8' }).split('\n')[0],
    amavisd: existsSync(AMAVISD) ? execFileSync('dpkg-query', ['-W', '-f=${Version}', 'amavisd-new'], { encoding: 'utf8' }) : 'not installed',
    full: FULL,
    date: new Date().toISOString(),
  };
  writeFileSync(resolve(`bench/results/${RESULTS_NAME}.json`), JSON.stringify({ machine, runs }, null, 2) + '\n');
  const find = (peer: Peer, profile: Profile | '-', size: number, sessions: number) =>
    runs.find((r) => r.peer === peer && r.profile === profile && r.sizeBytes === size && r.sessions === sessions);
  const ratio = (a?: number | null, b?: number | null) => (a && b ? `${(a / b).toFixed(2)}x` : 'n/a');
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (bench/bench.ts) on ${machine.date.slice(0, 10)}: ${machine.cpus} cores (${machine.cpu}), Node ${machine.node}, Postfix ${machine.postfix}, ${machine.clamd}, ${machine.spamd}, amavisd-new ${machine.amavisd}. ${FULL ? 'Full matrix.' : 'Default matrix (2 KB and 1 MB, 10 sessions); BENCH_FULL=1 runs every size and concurrency.'}`,
    '',
    'Every figure comes from the same run. Memory is given twice: peak RSS summed over processes (shared pages counted in each), and peak PSS sampled every 200 ms (shared pages split between the processes sharing them: the fair sum for forking servers like spamd and amavisd-new). "machine msg per CPU-s" counts the busy CPU of the whole machine (Postfix, filter, scanners) per message.',
    '',
    'Every figure comes from the same run. smtp-source -> Postfix -> content filter -> Postfix re-injection -> smtp-sink; "ceiling" is smtp-source straight into smtp-sink, "postfix" is Postfix with no content filter. Latency is Postfix\'s transmission time to the filter (end of DATA to the filter\'s reply, which comes after the next hop accepted). CPU and RSS are the filter\'s processes only (clamd and spamd apart; amavisd-new runs SpamAssassin in-process, so "ours + spamd" is the fair memory comparison). Above the SpamAssassin size limit (524288 bytes) our filter skips SpamAssassin while amavisd-new 2.13 scans a truncated copy: the 1 MB SpamAssassin rows are not like for like.',
    '',
    '| profile | size | sessions | mailfilter msg/s | amavisd-new msg/s | ours / amavisd-new | ours / Postfix alone | ours / ceiling | ours msg per CPU-s | amavis msg per CPU-s | ours p50 / p99 ms | amavis p50 / p99 ms | ours peak RSS MB | ours + spamd RSS MB | amavis peak RSS MB | ours + spamd PSS MB | amavis PSS MB | machine msg per CPU-s: ours / Postfix alone / amavis | ours lag p99 ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const profile of PROFILES)
    for (const size of SIZES)
      for (const sessions of SESSIONS) {
        const ours = find('mailfilter', profile, size, sessions);
        const amavis = find('amavisd-new', profile, size, sessions);
        const alone = find('postfix', '-', size, sessions);
        const ceiling = find('ceiling', '-', size, sessions);
        if (!ours) continue;
        const f = (n?: number | null, d = 1) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(d));
        lines.push(
          `| ${profile} | ${size >= 1048576 ? `${size / 1048576} MB` : `${size / 1024} KB`} | ${sessions} | ${f(ours.messagesPerSecond)} | ${f(amavis?.messagesPerSecond)} | ${ratio(ours.messagesPerSecond, amavis?.messagesPerSecond)} | ${ratio(ours.messagesPerSecond, alone?.messagesPerSecond)} | ${ratio(ours.messagesPerSecond, ceiling?.messagesPerSecond)} | ${f(ours.messagesPerCpuSecond)} | ${f(amavis?.messagesPerCpuSecond)} | ${f(ours.latencyP50Ms, 0)} / ${f(ours.latencyP99Ms, 0)} | ${f(amavis?.latencyP50Ms, 0)} / ${f(amavis?.latencyP99Ms, 0)} | ${ours.filterPeakRssMb ?? 'n/a'} | ${ours.spamdPeakRssMb !== null && ours.filterPeakRssMb !== null ? ours.filterPeakRssMb + ours.spamdPeakRssMb : 'n/a'} | ${amavis?.filterPeakRssMb ?? 'n/a'} | ${ours.filterPeakPssMb !== null ? ours.filterPeakPssMb + (ours.spamdPeakPssMb ?? 0) : 'n/a'} | ${amavis?.filterPeakPssMb ?? 'n/a'} | ${f(ours.systemMessagesPerCpuSecond)} / ${f(alone?.systemMessagesPerCpuSecond)} / ${f(amavis?.systemMessagesPerCpuSecond)} | ${f(ours.eventLoopLagP99Ms)} |`,
        );
      }
  lines.push('', '| peer | size | sessions | msg/s | msg per CPU-s (its own) | PSS MB |', '|---|---|---|---|---|---|');
  for (const run of runs.filter((r) => r.peer === 'ceiling' || r.peer === 'postfix' || r.peer === 'filter-alone')) {
    lines.push(
      `| ${run.peer === 'filter-alone' ? 'our filter alone (LMTP in, passthrough)' : run.peer === 'postfix' ? 'Postfix alone' : 'ceiling (smtp-source -> smtp-sink)'} | ${run.sizeBytes} | ${run.sessions} | ${run.messagesPerSecond.toFixed(1)} | ${run.messagesPerCpuSecond?.toFixed(1) ?? 'n/a'} | ${run.filterPeakPssMb ?? 'n/a'} |`,
    );
  }
  mkdirSync('docs', { recursive: true });
  // bench/containers.ts, bench/door.ts, bench/auth.ts and bench/cluster.ts keep their own sections in
  // the same page: a run of this bench leaves them as they were.
  const path = `docs/${REPORT_NAME}.md`;
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const kept = ['containers', 'door', 'auth', 'cluster']
    .map((name) => new RegExp(`<!-- bench/${name}\\.ts -->[^]*<!-- /bench/${name}\\.ts -->`).exec(previous)?.[0])
    .filter((section): section is string => section !== undefined);
  writeFileSync(path, lines.join('\n') + '\n' + kept.map((section) => `\n${section}\n`).join(''));
  console.log(`\nwritten: bench/results/${RESULTS_NAME}.json, docs/${REPORT_NAME}.md`);
}

main().catch(async (err: Error) => {
  console.error(`bench failed: ${err.message}`);
  for (const child of children) await stopChild(child);
  process.exitCode = 1;
});
