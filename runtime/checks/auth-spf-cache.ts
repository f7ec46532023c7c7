// SPF results kept a short while in process: check_host() (RFC 7208 4) is a function of the
// client's address, the envelope sender and DNS records; for the same question the answer is the
// same until a record changes. A sender's server sends message after message, and each evaluation
// costs the filter more CPU than a lookup. Results live no longer than
// the DNS cache's answers (maxAgeSeconds); temporary errors are not kept.
//
// Two memories. The first answers the same client, HELO and sender. The second answers the same
// client and sender *domain* for another local part, as mailing lists' VERP senders
// (list+bounce-1234@lists.example) and big senders' per-message bounce addresses bring: without
// macros (RFC 7208 7) a record cannot tell local parts apart, so the verdict is the domain's. An
// evaluation in which a macro expanded the local part, the sender, the HELO name or the time is kept
// for its exact sender only. A reused verdict gets its own comment and row naming its own sender and HELO.
import { spfRow } from './auth-row.js';
import { BoundedMap } from './bounded-map.js';

export interface SpfQuestion {
  sender: string;
  ip: string;
  helo: string;
}

/** What the auth check reads of an SPF result (spf-evaluate.ts; mailauth's SPFResult has these too). */
export interface SpfOutcome {
  domain: string;
  status: { result: string; comment?: string };
  /** The Authentication-Results row. */
  info: string;
}

/** An evaluation's verdict and whether it is the domain's (spf-evaluate.ts). */
export interface SpfEvaluation {
  outcome: SpfOutcome;
  /** A macro expanded something of this very sender (%{l}, %{s}, %{h}, %{t}): not the domain's verdict. */
  perSender: boolean;
}

export interface SpfCacheOptions {
  maxEntries: number;
  maxAgeSeconds: number;
  now?: () => number;
}

interface Entry {
  expires: number;
  outcome: Promise<SpfOutcome>;
}

/** Where the sender's address splits, for a sender the domain memory may answer ('' otherwise). */
function domainOf(sender: string): string {
  const at = sender.lastIndexOf('@');
  return at > 0 && at < sender.length - 1 ? sender.slice(at + 1).toLowerCase() : '';
}

/**
 * The domain's verdict told for `question`'s sender: mailauth's comments name the sender once, after
 * "of " ("domain of a@x designates …", "during lookup of a@x"), or name only the domain.
 */
function retold(outcome: SpfOutcome, from: string, question: SpfQuestion): SpfOutcome {
  const comment = outcome.status.comment?.replace(`of ${from}`, `of ${question.sender}`);
  return {
    domain: outcome.domain,
    status: { result: outcome.status.result, ...(comment === undefined ? {} : { comment }) },
    info: spfRow(outcome.status.result, comment, question.sender, question.helo),
  };
}

export function spfCache(
  evaluate: (question: SpfQuestion) => Promise<SpfEvaluation>,
  options: SpfCacheOptions,
): (question: SpfQuestion) => Promise<SpfOutcome> {
  const now = options.now ?? Date.now;
  const exact = new BoundedMap<string, Entry>(options.maxEntries);
  const byDomain = new BoundedMap<string, { expires: number; sender: string; outcome: SpfOutcome }>(options.maxEntries);
  return (question) => {
    const domain = domainOf(question.sender);
    // The local part counts (macros may use it); domain names do not care about case.
    const sender = domain ? question.sender.slice(0, question.sender.lastIndexOf('@') + 1) + domain : question.sender;
    const key = `${question.ip} ${question.helo.toLowerCase()} ${sender}`;
    const found = exact.get(key);
    if (found && found.expires > now()) return found.outcome;
    const domainKey = `${question.ip} ${domain}`;
    const known = domain ? byDomain.get(domainKey) : undefined;
    if (known && known.expires > now()) return Promise.resolve(retold(known.outcome, known.sender, question));
    const entry: Entry = { expires: now() + options.maxAgeSeconds * 1000, outcome: Promise.resolve(undefined as unknown as SpfOutcome) };
    entry.outcome = evaluate(question).then(
      ({ outcome, perSender }) => {
        if (outcome.status.result === 'temperror') exact.deleteIf(key, entry);
        else {
          entry.expires = now() + options.maxAgeSeconds * 1000;
          if (domain && !perSender) byDomain.set(domainKey, { expires: entry.expires, sender: question.sender, outcome });
        }
        return outcome;
      },
      (err: Error) => {
        exact.deleteIf(key, entry);
        throw err;
      },
    );
    entry.outcome.catch(() => undefined);
    exact.set(key, entry);
    return entry.outcome;
  };
}
