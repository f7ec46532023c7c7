// Runs an outside decoder (7-Zip, bsdtar) the one way we allow: no shell, under prlimit (no file
// larger than what the byte budget still allows, no core), in the message's own spool folder, with a
// clean environment, killed when the message's time budget ends.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { InspectionLimitError, type InspectionBudget } from './budget.js';

export interface DecoderRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface DecoderStream {
  /** What the decoder writes; it ends early when the decoder is killed. */
  stdout: Readable;
  /** The exit code and stderr; rejects with the limit or spawn error that stopped it. */
  done: Promise<{ code: number | null; stderr: string }>;
  /** Stops the decoder now (the reader gave up: a budget ran out). */
  stop(): void;
}

function start(program: string, args: string[], cwd: string, budget: InspectionBudget) {
  const { bytes, ms } = budget.remaining();
  if (ms <= 0) throw new InspectionLimitError(`took longer than ${budget.limits.maxSeconds}s to decode`, 'time');
  const argv = [`--fsize=${Math.max(bytes, 4096)}`, '--core=0', '--', program, ...args];
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn('prlimit', argv, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
  });
  const err: Buffer[] = [];
  let failure: Error | null = null;
  const stop = (why: Error) => {
    failure ??= why;
    child.kill('SIGKILL');
  };
  const timer = setTimeout(() => stop(new InspectionLimitError(`decoder (${program}) timed out after ${Math.round(ms / 1000)}s`, 'time')), ms);
  child.stderr.on('data', (chunk: Buffer) => {
    if (err.length < 64) err.push(chunk);
  });
  child.on('error', (e) => stop(new Error(`cannot run ${program}: ${e.message}`)));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else resolve({ code, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
  return { child, stop, done };
}

/** Runs to the end, keeping stdout; more than `maxOutput` bytes of it means more entries than the budget allows. */
export async function runDecoder(program: string, args: string[], cwd: string, budget: InspectionBudget, maxOutput: number): Promise<DecoderRun> {
  const { child, stop, done } = start(program, args, cwd, budget);
  const out: Buffer[] = [];
  let outLength = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    outLength += chunk.length;
    if (outLength > maxOutput) stop(new InspectionLimitError(`holds more than ${budget.limits.maxEntries} files`, 'entries'));
    else out.push(chunk);
  });
  const { code, stderr } = await done;
  return { code, stderr, stdout: Buffer.concat(out).toString('utf8') };
}

/** Starts the decoder and hands over its stdout as a stream, for a reader that charges the budget as it goes. */
export function streamDecoder(program: string, args: string[], cwd: string, budget: InspectionBudget): DecoderStream {
  const { child, stop, done } = start(program, args, cwd, budget);
  // Rejections are read by the caller after the stream; never leave one unhandled meanwhile.
  done.catch(() => undefined);
  child.stdout.on('error', () => undefined);
  return { stdout: child.stdout, done, stop: () => stop(new Error('stopped by the reader')) };
}
