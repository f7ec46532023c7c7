// Postfix's policy delegation protocol (SMTPD_POLICY_README): the client sends name=value lines
// ended by an empty line, the server answers one "action=..." line and an empty line, on the same
// connection as often as Postfix asks.
export type PolicyRequest = Record<string, string>;

const MAX_REQUEST_BYTES = 64 * 1024;

/** Collects requests from a connection's data; each complete one goes to `onRequest`, in order. */
export function requestReader(onRequest: (request: PolicyRequest) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('latin1');
    if (pending.length > MAX_REQUEST_BYTES) throw new Error('policy request too large');
    let end: number;
    while ((end = pending.search(/\r?\n\r?\n/)) >= 0) {
      const block = pending.slice(0, end);
      pending = pending.slice(end).replace(/^\r?\n\r?\n/, '');
      const request: PolicyRequest = {};
      for (const line of block.split(/\r?\n/)) {
        const eq = line.indexOf('=');
        if (eq > 0) request[line.slice(0, eq)] = line.slice(eq + 1);
      }
      onRequest(request);
    }
  };
}

export function policyAnswer(action: string): string {
  return `action=${action.replace(/[\r\n]+/g, ' ')}\n\n`;
}
