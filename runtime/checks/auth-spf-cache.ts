// SPF results kept a short while in process: check_host() (RFC 7208 4) is a function of the
// client's address, the HELO name and the envelope sender, and of DNS records; for the same three
// the answer is the same until a record changes. A sender's server sends message after message,
// and each evaluation (mailauth's address matching) cost the filter more CPU than a lookup. Results
// live no longer than the DNS cache's answers (maxAgeSeconds); temporary errors are not kept.
import type { SPFResult } from 'mailauth';

export interface SpfQuestion {
  sender: string;
  ip: string;
  helo: string;
}

export interface SpfCacheOptions {
  maxEntries: number;
  maxAgeSeconds: number;
  now?: () => number;
}

interface Entry {
  expires: number;
  result: Promise<SPFResult>;
}

export function spfCache(evaluate: (question: SpfQuestion) => Promise<SPFResult>, options: SpfCacheOptions): (question: SpfQuestion) => Promise<SPFResult> {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const forget = (key: string, entry: Entry) => {
    if (entries.get(key) === entry) entries.delete(key);
  };
  return (question) => {
    // The local part counts (macros may use it); domain names do not care about case.
    const at = question.sender.lastIndexOf('@');
    const sender = at < 0 ? question.sender : question.sender.slice(0, at + 1) + question.sender.slice(at + 1).toLowerCase();
    const key = `${question.ip} ${question.helo.toLowerCase()} ${sender}`;
    const found = entries.get(key);
    if (found && found.expires > now()) return found.result;
    if (found) entries.delete(key);
    const entry: Entry = { expires: now() + options.maxAgeSeconds * 1000, result: Promise.resolve(undefined as unknown as SPFResult) };
    entry.result = evaluate(question).then(
      (result) => {
        if (result.status.result === 'temperror') forget(key, entry);
        else entry.expires = now() + options.maxAgeSeconds * 1000;
        return result;
      },
      (err: Error) => {
        forget(key, entry);
        throw err;
      },
    );
    entry.result.catch(() => undefined);
    entries.set(key, entry);
    while (entries.size > options.maxEntries) entries.delete(entries.keys().next().value!);
    return entry.result;
  };
}
