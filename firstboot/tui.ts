// The wizard's screen (blessed): one question at a time with its help, its default in brackets and
// any error beside the field. Keyboard only; fits an 80x24 serial console.
import blessed from 'blessed';
import type { Wizard } from './wizard.js';
import { wrap } from '../runtime/text/wrap.js';

export { wrap };

const KEYS = ' Enter accept   Ctrl-B back   PgUp/PgDn section   Ctrl-C quit ';

/** Runs the wizard until the review is confirmed (true) or the admin quits (false). */
export function runTui(wizard: Wizard, title = 'Mail filter setup'): Promise<boolean> {
  return new Promise((resolve) => {
    const screen = blessed.screen({ smartCSR: true, title, dockBorders: true, fullUnicode: false, warnings: false });
    const header = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: 1, style: { fg: 'white', bg: 'blue', bold: true } });
    const help = blessed.box({ parent: screen, top: 2, left: 1, width: '100%-2', height: '40%', tags: false, style: { fg: 'cyan' } });
    const review = blessed.box({ parent: screen, top: 2, left: 1, width: '100%-2', height: '100%-9', scrollable: true, alwaysScroll: true, hidden: true });
    const prompt = blessed.box({ parent: screen, bottom: 5, left: 1, width: '100%-2', height: 1 });
    const input = blessed.box({ parent: screen, bottom: 3, left: 1, width: '100%-2', height: 1, style: { fg: 'white', bold: true } });
    const error = blessed.box({ parent: screen, bottom: 2, left: 1, width: '100%-2', height: 1, style: { fg: 'red', bold: true } });
    blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, content: KEYS, style: { fg: 'black', bg: 'white' } });
    let value = '';
    let message = '';

    const render = () => {
      const view = wizard.screen();
      const width = Math.max(20, (screen.width as number) - 2);
      const promptLines = wrap(`${view.prompt} [${view.defaultShown}]:`, width);
      // The prompt grows upwards from above the input line; help and review get what is left.
      prompt.height = promptLines.length;
      help.height = Math.max(1, (screen.height as number) - 8 - promptLines.length);
      review.height = help.height;
      // A review longer than its box says how to see the rest: nothing else on screen would.
      const scrolls = view.kind === 'review' && view.review.length > (review.height as number);
      const corner = view.kind === 'question' ? `step ${view.step} of ${view.steps}` : scrolls ? '↑/↓ to scroll' : '';
      header.setContent(` ${title} - ${view.section}`.padEnd(Math.max(0, (screen.width as number) - 16)) + corner);
      help.hidden = view.kind !== 'question';
      review.hidden = view.kind !== 'review';
      help.setContent(wrap(view.help, width).join('\n'));
      review.setContent(view.review.join('\n'));
      prompt.setContent(promptLines.join('\n'));
      input.setContent(`> ${view.secret ? '*'.repeat(value.length) : value}_`);
      error.setContent(message);
      screen.render();
    };

    const finish = (confirmed: boolean) => {
      screen.destroy();
      resolve(confirmed);
    };

    screen.on('keypress', (ch: string | undefined, key: { full: string; name: string; ctrl: boolean }) => {
      if (key.full === 'return') return; // the same Enter also arrives as 'enter'
      const view = wizard.screen();
      message = '';
      switch (key.full) {
        case 'C-c':
          return finish(false);
        // blessed reports one Enter key as both 'return' and 'enter': act on one of them.
        case 'enter': {
          const problem = wizard.submit(value);
          if (problem) message = problem;
          else value = '';
          if (wizard.done) return finish(true);
          break;
        }
        case 'backspace':
          value = value.slice(0, -1);
          break;
        case 'C-u':
          value = '';
          break;
        case 'C-b':
        case 'escape':
          wizard.back();
          value = '';
          break;
        case 'pagedown':
          message = wizard.nextSection() ?? '';
          value = '';
          break;
        case 'pageup':
          wizard.previousSection();
          value = '';
          break;
        case 'up':
          if (view.kind === 'review') review.scroll(-1);
          break;
        case 'down':
          if (view.kind === 'review') review.scroll(1);
          break;
        default:
          if (ch && !key.ctrl && ch >= ' ' && ch !== '\x7f' && value.length < 255) value += ch;
      }
      render();
    });
    screen.on('resize', render);
    render();
  });
}
