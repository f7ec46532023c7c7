// A message Postfix refused for good (5xx: too big, a sender it rejects) is kept in the quarantine
// with reason REFUSED and Postfix's answer, so it has an outcome the administrator sees in the
// viewer, and the mailbox moves on. A bounce was the other choice; the sender is often the very
// address Postfix refused, and a bounce to it would only fail again.
import { stat } from 'node:fs/promises';
import type { Category } from '../config/schema.js';
import { decodedHeader, headerValues, readHead } from '../mail/message-head.js';
import { newMessageId } from '../mail/local-id.js';
import type { QuarantineStore } from '../quarantine/store.js';
import { envelopeSender } from './inject.js';

export interface RefusedKeeper {
  /** Copies the message into the quarantine durably; returns its quarantine id. */
  keep(path: string, refusal: { deliverTo: string; reply: string }): Promise<string>;
}

// The quarantine's reasons are the filter's categories; REFUSED is the fetcher's own, not a
// verdict, so it has no destiny in the policy.
const REFUSED = 'REFUSED' as Category;

export function quarantineRefused(store: QuarantineStore): RefusedKeeper {
  return {
    async keep(path, refusal) {
      const head = await readHead(path, 256 * 1024);
      const id = newMessageId();
      await store.add(path, {
        id,
        receivedAt: new Date(),
        mailFrom: envelopeSender(headerValues(head, 'Return-Path')[0], headerValues(head, 'From')[0]),
        recipients: [refusal.deliverTo],
        headerFrom: decodedHeader(head, 'From'),
        headerTo: decodedHeader(head, 'To'),
        subject: decodedHeader(head, 'Subject'),
        reason: REFUSED,
        detail: `local Postfix refused it when fetched: ${refusal.reply}`,
        size: (await stat(path)).size,
      });
      return id;
    },
  };
}
