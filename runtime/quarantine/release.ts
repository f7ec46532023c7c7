// Release: a quarantined message goes back on its way through Postfix's re-injection listener, past
// the filter (so it is not quarantined again), marked with who released it. Only the recipients the
// next hop took are marked released: the others keep waiting.
import { Readable } from 'node:stream';
import type { Reinjector, RecipientOutcome } from '../mail/reinject.js';
import type { QuarantineEntry, QuarantineStore } from './store.js';

export async function releaseMessage(
  store: QuarantineStore,
  entry: QuarantineEntry,
  recipients: string[],
  reinjector: Reinjector,
  releasedBy: string,
): Promise<RecipientOutcome[]> {
  if (recipients.length === 0) throw new Error('no recipient to release to');
  const trace = Buffer.from(
    `X-Mailfilter-Released: ${entry.id} (${entry.reason}) by ${releasedBy.replace(/[^\x21-\x7e]/g, '?')} on ${new Date().toUTCString()}\r\n`,
  );
  const message = Readable.from(
    (async function* () {
      yield trace;
      yield* store.openMessage(entry);
    })(),
  );
  const outcomes = await reinjector.send(entry.mailFrom, recipients, message);
  await store.markReleased(
    entry.id,
    outcomes.filter((o) => o.code < 300).map((o) => o.recipient),
    releasedBy,
  );
  return outcomes;
}
