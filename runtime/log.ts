// One line per event, key=value pairs after the message, so `journalctl -u mailfilter-filter | grep id=`
// finds a message's whole story.
export type LogFields = Record<string, string | number | boolean | undefined | null>;
type Level = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const threshold = LEVELS[(process.env.MAILFILTER_LOG_LEVEL as Level) ?? 'info'] ?? LEVELS.info;

function formatValue(value: string | number | boolean): string {
  const textValue = String(value);
  return /^[^\s"=]+$/.test(textValue) ? textValue : JSON.stringify(textValue);
}

function write(level: Level, component: string, message: string, fields: LogFields = {}): void {
  if (LEVELS[level] < threshold) return;
  const pairs = Object.entries(fields)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined && entry[1] !== null)
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  pending.push(`${level} ${component}: ${message}${pairs.length ? ' ' + pairs.join(' ') : ''}\n`);
  if (pending.length === 1) setImmediate(flush);
}

// Lines written in one turn of the event loop go out in one write: under load the filter logs
// several lines per message, and a write to journald's pipe is a system call each.
let pending: string[] = [];

function flush(): void {
  if (pending.length === 0) return;
  const text = pending.join('');
  pending = [];
  process.stderr.write(text);
}

process.on('exit', flush);

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export function logger(component: string): Logger {
  return {
    debug: (message, fields) => write('debug', component, message, fields),
    info: (message, fields) => write('info', component, message, fields),
    warn: (message, fields) => write('warn', component, message, fields),
    error: (message, fields) => write('error', component, message, fields),
  };
}
