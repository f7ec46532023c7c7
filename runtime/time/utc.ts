// Times in UTC, as logs, audit lines, the console and digests write them (the viewer's pages use
// the appliance's local time instead: viewer/format.ts).
const iso = (at: number | Date) => new Date(at).toISOString();

/** "2024-05-01" */
export function utcDay(at: number | Date): string {
  return iso(at).slice(0, 10);
}

/** "2024-05-01 14:03", or "2024-05-01 14:03:07" with seconds. */
export function utcClock(at: number | Date, seconds = false): string {
  return iso(at)
    .replace('T', ' ')
    .slice(0, seconds ? 19 : 16);
}

/** "2024-05-01 14:03 UTC": for people, who are told the zone. */
export function utcTime(at: number | Date): string {
  return `${utcClock(at)} UTC`;
}
