// SPF macro expansion (RFC 7208 7): %{l} and its kin in a domain-spec, with the transformers (a
// count of right-hand parts, r for reversal), delimiters, and upper-case letters URL-escaped.
// Tells whether it used anything that differs between senders of one domain from one client
// (the local part, the whole sender, the HELO name, the time), so a verdict is not reused across them.
import { ipDotted, ipText, type IpAddress } from './spf-address.js';
import { SpfProblem } from './spf-problem.js';

export interface MacroValues {
  sender: string;
  /** check_host()'s current domain: the sender's, then an include's or redirect's target. */
  domain: string;
  ip: IpAddress;
  helo: string;
  /** Our own name, for %{r}. */
  receiver: string;
  /** The validated name of the client (%{p}), worked out beforehand only when asked for. */
  validatedName?: string;
}

export interface MacroUse {
  perSender: boolean;
}

const DELIMITERS = '.-+,/_=';

/** RFC 3986 unreserved characters stay; everything else is %XX. */
const urlEscape = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function letterValue(letter: string, values: MacroValues, use: MacroUse): string {
  const at = values.sender.indexOf('@');
  switch (letter) {
    case 's':
      use.perSender = true;
      return values.sender;
    case 'l':
      use.perSender = true;
      return values.sender.slice(0, Math.max(at, 0));
    case 'o':
      return values.sender.slice(at + 1);
    case 'd':
      return values.domain;
    case 'i':
      return ipDotted(values.ip);
    case 'p':
      return values.validatedName ?? 'unknown';
    case 'v':
      return values.ip.family === 4 ? 'in-addr' : 'ip6';
    case 'h':
      use.perSender = true;
      return values.helo || `[${ipText(values.ip)}]`;
    case 'c':
      return ipText(values.ip);
    case 'r':
      return values.receiver;
    case 't':
      use.perSender = true;
      return String(Math.round(Date.now() / 1000));
    default:
      throw new SpfProblem('permerror');
  }
}

function expandOne(spec: string, values: MacroValues, use: MacroUse): string {
  const letter = spec[0]!;
  let value = letterValue(letter.toLowerCase(), values, use);
  const [, digits = '', reverse = '', rest = ''] = /^.(\d*)(r?)(.*)$/s.exec(spec)!;
  const count = digits ? parseInt(digits, 10) : 0;
  // Characters that are not delimiters are passed over, as mailauth does.
  const delimiters = [...new Set(rest)].filter((c) => DELIMITERS.includes(c)).join('') || '.';
  if (reverse || count || delimiters !== '.') {
    let parts = value.split(new RegExp(`[${delimiters.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&')}]`));
    if (reverse) parts = parts.reverse();
    if (count > 0) parts = parts.slice(-count);
    value = parts.join('.');
  }
  return letter === letter.toLowerCase() ? value : urlEscape(value);
}

/** `text` with its macros expanded; a lone '%' or an unknown letter is a permerror. */
export function expandMacros(text: string, values: MacroValues, use: MacroUse): string {
  if (!text.includes('%')) return text;
  return text.replace(/%%|%_|%-|%\{([^}]+)\}|%/g, (found: string, spec: string | undefined) => {
    if (spec) return expandOne(spec, values, use);
    if (found === '%%') return '%';
    if (found === '%_') return ' ';
    if (found === '%-') return '%20';
    throw new SpfProblem('permerror');
  });
}

/** Whether `text` asks for %{p}, whose value needs DNS lookups first. */
export const wantsValidatedName = (text: string) => /%\{p/i.test(text);
