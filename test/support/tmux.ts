// Drives a terminal program in a real tmux pane: type, press keys, read the screen.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopWhenProcessExits } from '../../runtime/local/servers.js';

export class TmuxPane {
  private readonly unregister: () => void;

  private constructor(readonly name: string) {
    // The session and what runs in it (qemu in the image test) end with the test's process.
    this.unregister = stopWhenProcessExits(() => this.kill());
  }

  static start(name: string, command: string, size = { width: 80, height: 24 }): TmuxPane {
    try {
      execFileSync('tmux', ['kill-session', '-t', name], { stdio: 'ignore' });
    } catch {
      // no such session
    }
    return TmuxPane.create(name, command, size);
  }

  private static create(name: string, command: string, size: { width: number; height: number }): TmuxPane {
    execFileSync('tmux', ['new-session', '-d', '-s', name, '-x', String(size.width), '-y', String(size.height), command]);
    return new TmuxPane(name);
  }

  screen(): string {
    return execFileSync('tmux', ['capture-pane', '-p', '-t', this.name], { encoding: 'utf8' });
  }

  /** The screen with everything scrolled off above it. */
  history(): string {
    return execFileSync('tmux', ['capture-pane', '-p', '-S', '-', '-t', this.name], { encoding: 'utf8' });
  }

  /** Types text literally, then presses Enter. */
  async answer(text: string): Promise<void> {
    if (text) execFileSync('tmux', ['send-keys', '-t', this.name, '-l', text]);
    await this.key('Enter');
  }

  async key(name: string): Promise<void> {
    execFileSync('tmux', ['send-keys', '-t', this.name, name]);
    await sleep(60);
  }

  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = this.screen();
      // Long prompts wrap at the pane's width: match the text with its line breaks folded too.
      if (pattern.test(last) || pattern.test(last.replace(/[ \t]*\n[ \t]*/g, ' '))) return last;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${pattern} on the screen:\n${last}`);
  }

  /** Waits for the prompt of a question, then answers it. */
  async reply(prompt: RegExp, text: string): Promise<void> {
    await this.waitFor(prompt);
    await this.answer(text);
  }

  kill(): void {
    this.unregister?.();
    try {
      execFileSync('tmux', ['kill-session', '-t', this.name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
