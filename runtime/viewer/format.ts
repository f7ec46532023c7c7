// How the viewer writes times, sizes and spam scores: one helper each. Times are the appliance's
// own time zone (its TZ), and say which, so a reader abroad is not misled.

const pad = (n: number) => String(n).padStart(2, '0');

/** "+02:00" style offset of local time at this moment; "UTC" when there is none. */
export function zoneOf(ms: number): string {
  const offset = -new Date(ms).getTimezoneOffset();
  if (offset === 0) return 'UTC';
  const sign = offset > 0 ? '+' : '-';
  return `UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

/** "2024-05-01" in local time. */
export function formatDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "14:03" in local time. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "2024-05-01 14:03 UTC+02:00". */
export function formatTime(ms: number): string {
  return `${formatDay(ms)} ${formatClock(ms)} ${zoneOf(ms)}`;
}

/**
 * The start of a day typed as YYYY-MM-DD (an <input type=date>), in local time; undefined for
 * anything else, so a bad date filters nothing instead of failing.
 */
export function parseDay(value: string | undefined): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value ?? '');
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const start = new Date(year, month - 1, day);
  // new Date() rolls 2024-02-31 over into March: such a date is no date.
  return start.getFullYear() === year && start.getMonth() === month - 1 && start.getDate() === day ? start.getTime() : undefined;
}

/** The start of the day after `dayStart` (23 or 25 hours later around DST changes). */
export function nextDay(dayStart: number): number {
  const d = new Date(dayStart);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The spam score stored in a quarantine detail ("score=12.3 required=5"), if there is one. */
export function scoreOf(detail: string): number | undefined {
  const match = /(?:^|\s)score=(-?\d+(?:\.\d+)?)/.exec(detail);
  return match ? Number(match[1]) : undefined;
}
