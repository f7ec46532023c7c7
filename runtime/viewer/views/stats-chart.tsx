// Statistics as pictures, drawn on the server as SVG: no script, nothing loaded from elsewhere.
import type { Outcome } from '../../quarantine/store.js';
import { utcDay } from '../../time/utc.js';
import { DOOR_KINDS, DOOR_LABELS, type DoorKind } from '../../door-stats/door-kinds.js';

const OUTCOMES: Array<Series<Outcome>> = [
  { key: 'CLEAN', label: 'clean', color: '#6aa84f' },
  { key: 'SPAM', label: 'spam', color: '#e6b422' },
  { key: 'VIRUS', label: 'virus', color: '#cc3333' },
  { key: 'BANNED', label: 'banned', color: '#e07b28' },
  { key: 'UNCHECKED', label: 'unchecked', color: '#8e7cc3' },
  { key: 'BADH', label: 'bad header', color: '#5b7fbf' },
];

const DOOR_COLORS: Record<DoorKind, string> = {
  dnsbl: '#3d3d3d',
  pregreet: '#a64d79',
  'rate-limit': '#e07b28',
  'unknown-recipient': '#5b7fbf',
  greylisted: '#b7b7b7',
  'greylist-passed': '#6aa84f',
};
const DOOR_SERIES: Array<Series<DoorKind>> = DOOR_KINDS.map((kind) => ({ key: kind, label: DOOR_LABELS[kind], color: DOOR_COLORS[kind] }));

interface Series<K extends string> {
  key: K;
  label: string;
  color: string;
}

export function StatsChart({ rows, since, days }: { rows: Array<{ day: string; outcome: Outcome; count: number }>; since: string; days: number }) {
  const counts = rows.map((r) => ({ day: r.day, key: r.outcome, count: r.count }));
  return <DailyChart series={OUTCOMES} counts={counts} since={since} days={days} what="Messages per day by outcome" />;
}

/** What the front door refused per day (door-stats, from Postfix's log) and greylisting's answers (the policy service). */
export function DoorChart({ rows, since, days }: { rows: Array<{ day: string; kind: DoorKind; count: number }>; since: string; days: number }) {
  const counts = rows.map((r) => ({ day: r.day, key: r.kind, count: r.count }));
  return <DailyChart series={DOOR_SERIES} counts={counts} since={since} days={days} what="Refused at the door and greylisted per day" />;
}

function DailyChart<K extends string>({
  series,
  counts: rows,
  since,
  days,
  what,
}: {
  series: Array<Series<K>>;
  counts: Array<{ day: string; key: K; count: number }>;
  since: string;
  days: number;
  what: string;
}) {
  const dayList = Array.from({ length: days }, (_, i) => utcDay(Date.parse(`${since}T00:00:00Z`) + i * 86400_000));
  const counts = new Map(rows.map((r) => [`${r.day}|${r.key}`, r.count]));
  const totals = dayList.map((day) => series.reduce((n, o) => n + (counts.get(`${day}|${o.key}`) ?? 0), 0));
  const max = Math.max(1, ...totals);
  const width = 760;
  const height = 220;
  const left = 40;
  const barArea = height - 40;
  const step = (width - left) / days;
  return (
    <figure>
      <svg viewBox={`0 0 ${width} ${height + 30}`} width="100%" role="img" aria-label={`${what}, last ${days} days`}>
        <text x="0" y="12">
          {max}
        </text>
        <text x="0" y={barArea}>
          0
        </text>
        <line x1={left} y1={barArea} x2={width} y2={barArea} stroke="#99a" />
        {dayList.map((day, i) => {
          let y = barArea;
          return (
            <g>
              {series.map((o) => {
                const count = counts.get(`${day}|${o.key}`) ?? 0;
                const h = (count / max) * (barArea - 10);
                y -= h;
                return count > 0 ? (
                  <rect x={left + i * step + 4} y={y} width={step - 8} height={h} fill={o.color}>
                    <title>{`${day}: ${count} ${o.label}`}</title>
                  </rect>
                ) : null;
              })}
              <text x={left + i * step + step / 2} y={barArea + 14} text-anchor="middle">
                {day.slice(5)}
              </text>
              {totals[i] ? (
                <text x={left + i * step + step / 2} y={y - 3} text-anchor="middle">
                  {totals[i]}
                </text>
              ) : null}
            </g>
          );
        })}
        {series.map((o, i) => (
          <g>
            <rect x={left + i * 120} y={height + 10} width="12" height="12" fill={o.color} />
            <text x={left + i * 120 + 16} y={height + 20}>
              {o.label}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

export function SizeBar({ used, limit, count }: { used: number; limit: number; count: number }) {
  const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
  const share = Math.min(1, used / limit);
  return (
    <figure>
      <svg viewBox="0 0 760 40" width="100%" role="img" aria-label={`Quarantine ${mb(used)} of ${mb(limit)} MB`}>
        <rect x="0" y="5" width="760" height="20" fill="#e1e5eb" />
        <rect x="0" y="5" width={760 * share} height="20" fill={share > 0.9 ? '#cc3333' : '#1f3a5f'} />
      </svg>
      <figcaption>
        {count} messages, {mb(used)} MB of {mb(limit)} MB; the oldest are deleted beyond the limit.
      </figcaption>
    </figure>
  );
}
