// How many password guesses the viewer lets through. Each attempt is counted as failed before the
// password is checked (and forgiven when it was right), so parallel attempts count too. Three
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
  | { allowed: true; /** The password was right: this attempt no longer counts against anyone. */ succeeded(): void }
  | { allowed: false; retryAfterSeconds: number };

/** The account a typed name or address stands for, so that spelling it another way gains nothing. */
function accountKey(accounts: ViewerAccounts, username: string): string {
  const user = accounts.findByName(username) ?? (username.includes('@') ? accounts.findByAddress(username) : undefined);
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
 * Checks the limits and, when allowed, counts this attempt as failed at once. Synchronous from the
 * check to the count: no other request runs in between, however many arrive together.
 */
export function reserveLoginAttempt(accounts: ViewerAccounts, username: string, client: string, now = Date.now()): LoginAttempt {
  const name = username.toLowerCase();
  const pairKey = `user:${name}|${client}`;
  const addressKey = `ip:${client}`;
  const account = accountKey(accounts, name);
  const windowStart = now - WINDOW_MS;
  const pair = accounts.failureTimes(pairKey, windowStart);
  const address = accounts.failureTimes(addressKey, windowStart);
  const waits = [
    pair.length >= MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS ? pair[0]! + WINDOW_MS - now : 0,
    address.length >= MAX_FAILURES_PER_ADDRESS ? address[0]! + WINDOW_MS - now : 0,
    accountWaitMs(accounts.failureTimes(account, now - ACCOUNT_WINDOW_MS), now),
  ];
  const wait = Math.max(...waits);
  if (wait > 0) return { allowed: false, retryAfterSeconds: Math.ceil(wait / 1000) };
  const rows = [pairKey, addressKey, account].map((key) => accounts.recordFailure(key, now));
  return {
    allowed: true,
    succeeded() {
      for (const row of rows) accounts.forgetFailure(row);
      accounts.clearFailures(pairKey);
    },
  };
}

/** The wait in words, for the page that refuses. */
export function waitInWords(seconds: number): string {
  return seconds < 90 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
}
