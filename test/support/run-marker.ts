// Every process a test run starts carries MAILFILTER_RUN_ID in its environment (Postfix imports it,
// see runtime/local/postfix.ts), so what a run leaves behind can be found, named and stopped.
// As a command: `node --import tsx test/support/run-marker.ts <id>` lists and kills leftovers,
// and exits 1 if there were any.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Leftover {
  pid: number;
  command: string;
}

export function processesOfRun(runId: string): Leftover[] {
  const marker = `MAILFILTER_RUN_ID=${runId}`;
  const found: Leftover[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker)) continue;
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      // Zombies have no command line: they are gone once their parent reaps them.
      if (command) found.push({ pid, command });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runId = process.argv[2];
  if (!runId) throw new Error('usage: run-marker.ts <run id>');
  // Give processes that are stopping a moment to finish on their own.
  let left = processesOfRun(runId);
  for (let waited = 0; left.length > 0 && waited < 10_000; waited += 500) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    left = processesOfRun(runId);
  }
  for (const { pid, command } of left) {
    console.log(`left running by the tests: pid ${pid}: ${command.slice(0, 200)}`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  process.exitCode = left.length > 0 ? 1 : 0;
}
