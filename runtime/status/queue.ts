// Postfix's queue as `postqueue -j` reports it (one JSON object per message): how many wait in
// each queue, and the latest deferrals with Postfix's own reason.
import type { Run } from './services.js';

export interface QueueSummary {
  counts: Record<string, number>;
  deferrals: Array<{ arrivalTime: number; sender: string; recipient: string; reason: string }>;
}

interface QueueEntry {
  queue_name?: string;
  arrival_time?: number;
  sender?: string;
  recipients?: Array<{ address?: string; delay_reason?: string }>;
}

export function parseQueue(json: string, latest = 5): QueueSummary {
  const counts: Record<string, number> = { active: 0, incoming: 0, deferred: 0, hold: 0 };
  const deferrals: QueueSummary['deferrals'] = [];
  for (const line of json.split('\n')) {
    if (!line.trim()) continue;
    let entry: QueueEntry;
    try {
      entry = JSON.parse(line) as QueueEntry;
    } catch {
      continue;
    }
    const queue = entry.queue_name ?? 'unknown';
    counts[queue] = (counts[queue] ?? 0) + 1;
    for (const r of entry.recipients ?? []) {
      if (r.delay_reason)
        deferrals.push({ arrivalTime: entry.arrival_time ?? 0, sender: entry.sender ?? '', recipient: r.address ?? '', reason: r.delay_reason });
    }
  }
  deferrals.sort((a, b) => b.arrivalTime - a.arrivalTime);
  return { counts, deferrals: deferrals.slice(0, latest) };
}

/** Needs Postfix's config dir: there may be no /etc/postfix/main.cf where this runs. */
export function queueSummary(configDir: string, run: Run): QueueSummary {
  return parseQueue(run('postqueue', ['-c', configDir, '-j']));
}
