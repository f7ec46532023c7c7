// Stopping a server a test started: SIGTERM, then wait until it has really exited.
import type { ChildProcess } from 'node:child_process';

export async function stopChild(child: ChildProcess | null | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
