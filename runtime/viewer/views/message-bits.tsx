// Small pieces every message page shows: the reason badge, this user's release state, a release
// request's state, the received time with its zone, and a list row's received and sender cells.
import type { Category } from '../../config/schema.js';
import type { QuarantineEntry } from '../../quarantine/store.js';
import type { ReleaseRequest } from '../../actions/release-requests.js';
import { formatClock, formatDay, formatTime, zoneOf } from '../format.js';
import { displayText, senderShown } from '../../quarantine/display.js';

/** Enough for any screen; a list does not carry a 5 KB subject fifty times. */
export const SHOWN_CHARS = 300;

export const ReasonBadge = ({ reason }: { reason: Category }) => <span class={`reason ${reason}`}>{reason}</span>;

/** The state of this user's copies: released, in part, or not yet. */
export function ReleaseState({ entry, own }: { entry: QuarantineEntry; own: string[] }) {
  const released = entry.releases.filter((r) => own.includes(r.address));
  if (released.length === 0) return null;
  const text = released.length === own.length && own.length === 1 ? 'released' : `released to ${released.map((r) => r.address).join(', ')}`;
  return <span class="muted"> · {text}</span>;
}

export function RequestStatus({ request }: { request: ReleaseRequest | undefined }) {
  if (!request) return null;
  const text =
    request.status === 'pending'
      ? 'release requested'
      : request.status === 'approved'
        ? `release approved by ${request.decidedBy}`
        : `release denied by ${request.decidedBy}`;
  return <span class={`muted request-${request.status}`}> · {text}</span>;
}

/** A time as a <time> element: day, clock and zone, the exact moment for machines. */
export const When = ({ ms, compact }: { ms: number; compact?: boolean }) => (
  <time datetime={new Date(ms).toISOString()} title={formatTime(ms)}>
    {compact ? (
      <>
        {formatDay(ms)}{' '}
        <span class="clock">
          {formatClock(ms)} <span class="muted">{zoneOf(ms)}</span>
        </span>
      </>
    ) : (
      formatTime(ms)
    )}
  </time>
);

/** A message list row's first cells: when it came, and from whom (cut; the title holds the same text). */
export const ReceivedFromCells = ({ entry }: { entry: QuarantineEntry }) => {
  const from = displayText(senderShown(entry), SHOWN_CHARS);
  return (
    <>
      <td class="when">
        <When ms={entry.receivedAt} compact />
      </td>
      <td class="from" title={from}>
        {from}
      </td>
    </>
  );
};
