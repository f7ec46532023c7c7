// The filter's few audit lines (an allow entry letting forged-looking mail through), written to the
// viewer's audit log, once the viewer's database exists. The mail is decided either way: a line
// that cannot be written is the caller's to log.
import { AuditLog, type AuditInput } from '../actions/audit.js';
import type { ViewerDbReader } from '../storage/open-viewer.js';

export type AuditSink = (input: AuditInput) => Promise<void>;

export function auditSink(viewerDb: ViewerDbReader): AuditSink {
  return async (input) => {
    const db = viewerDb.current();
    if (!db) throw new Error(`no viewer database yet (${viewerDb.where})`);
    await new AuditLog(db).record(input);
  };
}
