// What the wizard tests type and answer: runs of Enter (keep the default), the directory questions,
// and a static-address SMTP appliance's answers.
import assert from 'node:assert/strict';
import type { Wizard } from '../../firstboot/wizard.js';
import { applyAnswers } from '../../firstboot/apply.js';
import { defaultAnswers, type Answers } from '../../firstboot/answers.js';
import { defaultConfig } from '../../runtime/config/load.js';

/** Submits each reply, failing the test on the first one the wizard refuses. */
export function answerAll(wizard: Wizard, replies: string[]): void {
  for (const reply of replies) {
    const error = wizard.submit(reply);
    assert.equal(error, null, `"${reply}" at "${wizard.screen().prompt}": ${error}`);
  }
}

/** Enter, n times: every default kept. */
export const keepDefaults = (n: number): string[] => Array<string>(n).fill('');

/** Exchange yes, then the directory server, its user and password, and the base DN left to find. */
export const directoryReplies = (password: string): string[] => ['yes', 'dc.company.local', 'sync@company.local', password, ''];

/** An SMTP appliance at 192.168.1.5 for company.com, delivering to 192.168.1.20; the rest as given. */
export function smtpAnswers(more: Partial<Answers>): Answers {
  return {
    ...defaultAnswers(),
    hostname: 'mx.company.com',
    mode: 'smtp',
    address: '192.168.1.5',
    netmask: '255.255.255.0',
    gateway: '192.168.1.1',
    dns1: '192.168.1.1',
    externalDomain: 'company.com',
    internalDomain: 'company.com',
    finalServer: '192.168.1.20',
    ...more,
  };
}

/** A DHCP SMTP appliance that DKIM-signs outgoing mail for company.com (the DKIM tests' answers). */
export const dkimSigningAnswers = (more: Partial<Answers> = {}): Answers => ({
  ...defaultAnswers(),
  hostname: 'mx.company.com',
  mode: 'smtp',
  dhcp: true,
  externalDomain: 'company.com',
  internalDomain: 'company.com',
  finalServer: '192.168.1.20',
  relayDomains: ['company.com'],
  allowedNetworks: ['host'],
  exchange: false,
  dkimSign: true,
  ...more,
});

export const APPLY_PATHS = { configPath: '/etc/mailfilter/mailfilter.json', answersPath: '/etc/mailfilter/answers.json' } as const;

/** Applies the answers into `root` without restarting anything; fails the test unless apply succeeds; its progress lines. */
export async function applyInto(root: string, answers: Answers): Promise<string[]> {
  const lines: string[] = [];
  const ok = await applyAnswers(answers, defaultConfig(), { root, ...APPLY_PATHS, restart: false, progress: (line) => lines.push(line) });
  assert.equal(ok, true, lines.join('\n'));
  return lines;
}
