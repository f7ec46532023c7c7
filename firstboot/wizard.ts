// The wizard as a state machine, with no screen: what to ask now, what an answer does, back and
// forward. The blessed screen (tui.ts) and the tests drive the same engine.
import type { Answers, FetchServerAnswer } from './answers.js';
import { ACCOUNTS_QUESTION_ID, QUESTIONS, SECTIONS, reviewLines, type Question } from './questions.js';
import * as check from './validate.js';
import { extraHelp } from './help.js';
import type { DkimPublication } from '../runtime/checks/auth-dkim-record.js';
import { isEmailAddress } from '../runtime/mail/address.js';

export interface WizardScreen {
  kind: 'question' | 'review' | 'done';
  section: string;
  step: number;
  steps: number;
  help: string;
  prompt: string;
  /** Shown in brackets; Enter on an empty line takes it. Masked for secrets. */
  defaultShown: string;
  secret: boolean;
  review: string[];
}

type AccountPhase = 'server' | 'protocol' | 'user' | 'password' | 'deliverTo';

const ACCOUNT_PROMPTS: Record<AccountPhase, string> = {
  server: 'Enter a server to poll (blank to quit)',
  protocol: 'Protocol for this server (pop3/imap)',
  user: 'Enter a username/address for this server (blank to quit)',
  password: 'Enter a password for this account',
  deliverTo: 'Enter the local address to take delivery',
};

export class Wizard {
  private index = 0;
  private accountPhase: AccountPhase = 'server';
  private pendingAccount: { user: string; password: string } = { user: '', password: '' };
  private reviewing = false;
  done = false;

  constructor(
    readonly answers: Answers,
    private readonly validateAll: (a: Answers) => string | null = () => null,
    /** The certificate these answers give port 25, in words, shown on the review. */
    private readonly certificate?: (a: Answers) => string,
    /** The DKIM key the answers would sign with, shown on the review with its record. */
    private readonly dkim?: (a: Answers) => DkimPublication,
    /** What the shared database holds (its schema's version), shown on the review when storage is shared. */
    private readonly storage?: (a: Answers) => string | undefined,
  ) {
    this.index = this.firstVisibleFrom(0);
  }

  private visible(i: number): boolean {
    const q = QUESTIONS[i];
    return q !== undefined && !q.skip?.(this.answers);
  }

  private firstVisibleFrom(i: number): number {
    while (i < QUESTIONS.length && !this.visible(i)) i++;
    return i;
  }

  private get question(): Question | undefined {
    return QUESTIONS[this.index];
  }

  /** The steps of the chosen mode: skipped questions keep their numbers, so the total never moves. */
  private stepIndexes(): number[] {
    return QUESTIONS.map((_, i) => i).filter((i) => QUESTIONS[i]!.mode === undefined || QUESTIONS[i]!.mode === this.answers.mode);
  }

  screen(): WizardScreen {
    const steps = this.stepIndexes();
    if (this.done)
      return { kind: 'done', section: '', step: steps.length, steps: steps.length, help: '', prompt: '', defaultShown: '', secret: false, review: [] };
    if (this.reviewing || !this.question) {
      return {
        kind: 'review',
        section: 'Review',
        step: steps.length,
        steps: steps.length,
        help: '',
        prompt: 'Configuration OK? (Yes/No)',
        defaultShown: 'Yes',
        secret: false,
        review: reviewLines(
          this.answers,
          this.certificate?.(this.answers),
          this.dkim?.(this.answers),
          this.answers.sharedStorage ? this.storage?.(this.answers) : undefined,
        ),
      };
    }
    const q = this.question;
    const inAccounts = q.id === ACCOUNTS_QUESTION_ID;
    const defaultValue = inAccounts ? (this.accountPhase === 'protocol' ? 'pop3' : '') : q.defaultText(this.answers);
    const secret = inAccounts ? this.accountPhase === 'password' : q.secret === true;
    const current = this.answers.fetchServers.at(-1);
    return {
      kind: 'question',
      section: q.section,
      step: steps.indexOf(this.index) + 1,
      steps: steps.length,
      help: inAccounts && this.accountPhase !== 'server' ? `Accounts on ${current?.host ?? ''}.` : (q.help ?? extraHelp(q.id)),
      prompt: inAccounts ? ACCOUNT_PROMPTS[this.accountPhase] : q.prompt,
      defaultShown: secret && defaultValue ? '********' : !inAccounts && q.shown && defaultValue ? q.shown(defaultValue) : defaultValue,
      secret,
      review: [],
    };
  }

  /** Takes one typed line; returns an error to show beside the field, or null when it moved on. */
  submit(input: string): string | null {
    if (this.done) return null;
    if (this.reviewing || !this.question) return this.confirm(input);
    const q = this.question;
    if (q.id === ACCOUNTS_QUESTION_ID) return this.submitAccount(input.trim());
    const value = input === '' ? q.defaultText(this.answers) : input;
    const error = q.check(value, this.answers);
    if (error) return error;
    q.store(value, this.answers);
    this.advance();
    return null;
  }

  private advance(): void {
    this.index = this.firstVisibleFrom(this.index + 1);
    this.accountPhase = 'server';
    if (this.question?.id === ACCOUNTS_QUESTION_ID) this.answers.fetchServers = [];
    if (!this.question) this.reviewing = true;
  }

  private submitAccount(value: string): string | null {
    const servers = this.answers.fetchServers;
    const server = servers.at(-1) as FetchServerAnswer | undefined;
    switch (this.accountPhase) {
      case 'server': {
        if (value === '') {
          this.advance();
          return null;
        }
        const error = check.hostOrIp(value);
        if (error) return error;
        servers.push({ host: value, protocol: 'pop3', accounts: [] });
        this.accountPhase = 'protocol';
        return null;
      }
      case 'protocol': {
        const protocol = (value || 'pop3').toLowerCase();
        if (protocol !== 'pop3' && protocol !== 'imap') return 'Answer pop3 or imap.';
        server!.protocol = protocol;
        this.accountPhase = 'user';
        return null;
      }
      case 'user':
        if (value === '') {
          this.accountPhase = 'server';
          return null;
        }
        if (/\s/.test(value)) return 'A user name has no spaces.';
        this.pendingAccount = { user: value, password: '' };
        this.accountPhase = 'password';
        return null;
      case 'password':
        if (value === '') return 'Enter the password.';
        this.pendingAccount.password = value;
        this.accountPhase = 'deliverTo';
        return null;
      case 'deliverTo':
        if (!isEmailAddress(value)) return 'Enter an e-mail address like user_one@company.local.';
        server!.accounts.push({ ...this.pendingAccount, deliverTo: value });
        this.accountPhase = 'user';
        return null;
    }
  }

  private confirm(input: string): string | null {
    const value = input.trim() === '' ? 'yes' : input.trim();
    const error = check.yesNo(value);
    if (error) return error;
    if (!check.isYes(value)) {
      // Start again from the top, with everything answered so far as the defaults.
      this.reviewing = false;
      this.index = this.firstVisibleFrom(0);
      return null;
    }
    const invalid = this.validateAll(this.answers);
    if (invalid) return invalid;
    this.done = true;
    return null;
  }

  back(): void {
    if (this.reviewing) {
      this.reviewing = false;
      this.index = QUESTIONS.length;
    }
    let i = this.index - 1;
    while (i >= 0 && !this.visible(i)) i--;
    if (i >= 0) {
      this.index = i;
      this.accountPhase = 'server';
      if (this.question?.id === ACCOUNTS_QUESTION_ID) this.answers.fetchServers = [];
    }
  }

  /** Jumps to the next section, accepting the defaults of this one; refused when one would not do. */
  nextSection(): string | null {
    if (this.reviewing || !this.question) return null;
    const section = this.question.section;
    while (this.question && this.question.section === section) {
      const q = this.question;
      if (q.id === ACCOUNTS_QUESTION_ID) {
        this.advance();
        continue;
      }
      const error = q.check(q.defaultText(this.answers), this.answers);
      if (error) return `Answer this question first: ${error}`;
      q.store(q.defaultText(this.answers), this.answers);
      this.advance();
    }
    return null;
  }

  previousSection(): void {
    const section = this.reviewing || !this.question ? SECTIONS[SECTIONS.length - 1] : this.question.section;
    const sectionIndex = SECTIONS.indexOf(section as (typeof SECTIONS)[number]);
    const target =
      this.question && QUESTIONS.findIndex((q, i) => i < this.index && q.section === section && this.visible(i)) === -1
        ? SECTIONS[Math.max(0, sectionIndex - 1)]
        : section;
    const first = QUESTIONS.findIndex((q, i) => q.section === target && this.visible(i));
    if (first >= 0) {
      this.reviewing = false;
      this.index = first;
      this.accountPhase = 'server';
    }
  }
}
