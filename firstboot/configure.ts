// `mailfilter configure`: the setup wizard on the console (or an answers file, unattended), then
// apply with progress. Both paths check answers with the same rules and report the same errors.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { defaultConfig, loadConfig, ConfigError } from '../runtime/config/load.js';
import type { AppConfig } from '../runtime/config/schema.js';
import { answersDkim, answersToConfig, defaultAnswers, loadSavedAnswers, storageAnswers, type Answers } from './answers.js';
import { ACCOUNTS_QUESTION_ID, QUESTIONS } from './questions.js';
import { Wizard } from './wizard.js';
import { runTui } from './tui.js';
import { applyAnswers } from './apply.js';
import { describeCertificate } from '../runtime/tls/describe.js';
import { dkimPublication } from '../runtime/checks/auth-dkim-record.js';
import { checkSharedStorage } from './shared-storage.js';

export const ANSWERS_PATH = '/etc/mailfilter/answers.json';
export const CONFIG_PATH = '/etc/mailfilter/mailfilter.json';

export interface ConfigureOptions {
  root: string;
  answersFile?: string;
  restart: boolean;
}

/** Every problem of a set of answers, as the wizard would have shown them. */
export function answerProblems(answers: Answers, base: AppConfig): string[] {
  const problems: string[] = [];
  for (const q of QUESTIONS) {
    if (q.id === ACCOUNTS_QUESTION_ID || q.skip?.(answers)) continue;
    const error = q.check(q.defaultText(answers), answers);
    if (error) problems.push(`${q.id}: ${error}`);
  }
  if (problems.length === 0) {
    try {
      answersToConfig(answers, base);
    } catch (err) {
      problems.push(...(err instanceof ConfigError ? err.problems : [(err as Error).message]));
    }
  }
  return problems;
}

/** Answers left out of an answers file take the default the wizard would have offered. */
function fillDefaults(answers: Answers, given: Set<string>): void {
  for (const q of QUESTIONS) {
    if (q.id === ACCOUNTS_QUESTION_ID || given.has(q.id) || q.skip?.(answers)) continue;
    const value = q.defaultText(answers);
    if (q.check(value, answers) === null) q.store(value, answers);
  }
}

function baseConfig(root: string): AppConfig {
  const path = join(root, CONFIG_PATH);
  if (!existsSync(path)) return defaultConfig();
  try {
    return loadConfig(path);
  } catch {
    return defaultConfig(); // a broken config is replaced by the wizard's answers
  }
}

async function confirmOverSsh(): Promise<boolean> {
  if (!process.env.SSH_CONNECTION) return true;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(
    'You are connected over SSH. Applying the configuration restarts the network, which may end this session.\nContinue? (Yes/No) [No]: ',
  );
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

export async function configure(options: ConfigureOptions): Promise<number> {
  // A warning printed over the wizard's screen or apply's steps helps nobody at the console.
  process.noDeprecation = true;
  const base = baseConfig(options.root);
  const saved = { ...loadSavedAnswers(join(options.root, ANSWERS_PATH)), ...storageAnswers(base) };
  let answers: Answers;
  if (options.answersFile) {
    const given = JSON.parse(readFileSync(options.answersFile, 'utf8')) as Partial<Answers>;
    answers = { ...defaultAnswers(), ...saved, ...given };
    if (!existsSync(join(options.root, ANSWERS_PATH))) fillDefaults(answers, new Set(Object.keys(given)));
    const problems = answerProblems(answers, base);
    if (problems.length > 0) {
      console.error(`${options.answersFile}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`);
      return 1;
    }
  } else {
    if (options.restart && !(await confirmOverSsh())) return 1;
    answers = saved;
    // The review names the certificate the answers chose: the admin's file, or the self-signed one.
    const certificate = (a: Answers) =>
      describeCertificate({ ...base, postfix: { ...base.postfix, tlsCert: a.tlsCert, tlsKey: a.tlsKey } }, a.tlsCert ? '/' : options.root);
    const wizard = new Wizard(
      answers,
      (a) => answerProblems(a, base)[0] ?? null,
      certificate,
      (a) => dkimPublication(answersDkim(a, base), options.root),
      (a) => checkSharedStorage(a.storageUrl, a.storageCaFile).found,
    );
    if (!(await runTui(wizard))) {
      console.log('Setup cancelled; nothing was changed.');
      return 1;
    }
  }
  console.log('Status messages will be displayed as the services are reconfigured.');
  const ok = await applyAnswers(answers, base, {
    root: options.root,
    configPath: CONFIG_PATH,
    answersPath: ANSWERS_PATH,
    restart: options.restart,
    progress: (line) => console.log(line),
  });
  return ok ? 0 : 1;
}
