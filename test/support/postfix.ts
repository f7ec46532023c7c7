// A real Postfix instance for tests: the same private instance `mailfilter start` runs, with quick
// retries (the tests flush the queue when they need to).
import type { AppConfig } from '../../runtime/config/schema.js';
import { startPostfix as startLocalPostfix, type Postfix } from '../../runtime/local/postfix.js';

export type { Postfix };

/** `config.postfix.configDir` must point inside `dir`; `resolvConf` is the DNS Postfix sees (test/support/dns.ts). */
export function startPostfix(dir: string, config: AppConfig, options: { resolvConf?: string } = {}): Promise<Postfix> {
  return startLocalPostfix(dir, config, { quickRetries: true, ...options });
}
