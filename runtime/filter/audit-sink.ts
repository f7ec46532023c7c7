// The filter's few audit lines (an allow entry letting forged-looking mail through), written to the
// viewer's audit log, once the viewer's database exists. The mail is decided either way: a line
// that cannot be written is the caller's to log.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { AuditLog, type AuditInput } from '../actions/audit.js';

export function openAuditSink(viewerDatabase: string): ((input: AuditInput) => void) & { close(): void } {
  let db: Database.Database | null = null;
  const record = (input: AuditInput) => {
    if (!db) {
      if (!existsSync(viewerDatabase)) throw new Error(`no viewer database yet (${viewerDatabase})`);
      db = new Database(viewerDatabase, { fileMustExist: true });
      db.pragma('busy_timeout = 2000');
    }
    new AuditLog(db).record(input);
  };
  return Object.assign(record, {
    close: () => {
      db?.close();
      db = null;
    },
  });
}
