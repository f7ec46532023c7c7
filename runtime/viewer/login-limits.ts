// How many password guesses the viewer lets through. Each attempt is counted as failed before the
// password is checked (and forgiven when it was right), so parallel attempts count too, on this
// node and on every other node sharing the database. Three
// limits: per account and client address, per client address, and per account from anywhere,
// where after a few failures each further one doubles the wait.
import type { ViewerAccounts } from '../accounts/viewer-accounts.js';

const MINUTE = 60_000;
const WINDOW_MS = 15 * MINUTE;
const MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5;
const MAX_FAILURES_PER_ADDRESS = 20;
const ACCOUNT_WINDOW_MS = 60 * MINUTE;
const ACCOUNT_FREE_FAILURES = 10;
const ACCOUNT_FIRST_WAIT_MS = MINUTE;
const ACCOUNT_MAX_WAIT_MS = 60 * MINUTE;

export type LoginAttempt =
  | { allowed: true; /** The password was right: this attempt no longer counts against anyone. */ succeeded(): Promise<void> }
  | { allowed: false; retryAfterSeconds: number };

/** The account a typed name or address stands for, so that spelling it another way gains nothing. */
async function accountKey(accounts: ViewerAccounts, username: string): Promise<string> {
  const user = (await accounts.findByName(username)) ?? (username.includes('@') ? await accounts.findByAddress(username) : undefined);
  return user ? `account:#${user.id}` : `account:${username.toLowerCase()}`;
}

/** How long the account must still wait: nothing for the first failures, then 1 minute, doubling, at most an hour. */
function accountWaitMs(failures: number[], now: number): number {
  const beyond = failures.length - ACCOUNT_FREE_FAILURES;
  if (beyond < 0) return 0;
  const wait = Math.min(ACCOUNT_FIRST_WAIT_MS * 2 ** beyond, ACCOUNT_MAX_WAIT_MS);
  return Math.max(0, failures[failures.length - 1]! + wait - now);
}

/**
 * Counts this attempt as failed, then checks the limits against the attempts counted before it:
 * of attempts arriving together (on any node) each is judged by those ahead of it in the
 * database's order, so none slips past a limit between a check and its count. A refused attempt
 * was never tried and is taken back.
 */
export async function reserveLoginAttempt(accounts: ViewerAccounts, username: string, client: string, now = Date.now()): Promise<LoginAttempt> {
  const name = username.toLowerCase();
  const pairKey = `user:${name}|${client}`;
  const addressKey = `ip:${client}`;
  const account = await accountKey(accounts, name);
  const [pairRow, addressRow, accountRow] = [
    await accounts.recordFailure(pairKey, now),
    await accounts.recordFailure(addressKey, now),
    await accounts.recordFailure(account, now),
  ];
  const rows = [pairRow, addressRow, accountRow];
  const windowStart = now - WINDOW_MS;
  const pair = await accounts.failureTimes(pairKey, windowStart, pairRow);
  const address = await accounts.failureTimes(addressKey, windowStart, addressRow);
  const waits = [
    pair.length >= MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS ? pair[0]! + WINDOW_MS - now : 0,
    address.length >= MAX_FAILURES_PER_ADDRESS ? address[0]! + WINDOW_MS - now : 0,
    accountWaitMs(await accounts.failureTimes(account, now - ACCOUNT_WINDOW_MS, accountRow), now),
  ];
  const wait = Math.max(...waits);
  const forget = async () => {
    for (const row of rows) await accounts.forgetFailure(row);
  };
  if (wait > 0) {
    await forget();
    return { allowed: false, retryAfterSeconds: Math.ceil(wait / 1000) };
  }
  return {
    allowed: true,
    async succeeded() {
      await forget();
      await accounts.clearFailures(pairKey);
    },
  };
}

/** The wait in words, for the page that refuses. */
export function waitInWords(seconds: number): string {
  return seconds < 90 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
}
