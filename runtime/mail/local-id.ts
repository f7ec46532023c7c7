// The id our mail gets on arrival: its spool file's name and, when held, its quarantine entry's.
import { randomBytes } from 'node:crypto';

/** Sortable by time, unique enough to name files and quarantine entries: 20261124T171500-3f9a0c1b2d. */
export function newMessageId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(5).toString('hex')}`;
}
