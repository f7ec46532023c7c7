// Builders for test messages: real RFC 5322 text, attachments base64-encoded as mailers do.
import { randomBytes } from 'node:crypto';

export interface Attachment {
  filename: string;
  contentType?: string;
  content: Buffer | string;
}

export interface MessageSpec {
  from?: string;
  to?: string;
  subject?: string;
  body?: string;
  attachments?: Attachment[];
  extraHeaders?: string[];
}

function base64Lines(data: Buffer): string {
  return data.toString('base64').replace(/.{76}/g, '$&\r\n');
}

export function buildMessage(spec: MessageSpec = {}): string {
  const from = spec.from ?? 'Alice Sender <alice@company.com>';
  const to = spec.to ?? 'Bob <bob@company.local>';
  const head = [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${spec.subject ?? 'Quarterly report'}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomBytes(8).toString('hex')}@company.com>`,
    'MIME-Version: 1.0',
    ...(spec.extraHeaders ?? []),
  ];
  const body = spec.body ?? 'Hello Bob,\r\n\r\nplease find the numbers below.\r\n\r\nAlice\r\n';
  if (!spec.attachments?.length) return [...head, 'Content-Type: text/plain; charset=utf-8', '', body].join('\r\n');
  const boundary = `b_${randomBytes(6).toString('hex')}`;
  const parts = [`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', body];
  for (const a of spec.attachments) {
    const data = typeof a.content === 'string' ? Buffer.from(a.content) : a.content;
    parts.push(
      `--${boundary}`,
      `Content-Type: ${a.contentType ?? 'application/octet-stream'}; name="${a.filename}"`,
      'Content-Transfer-Encoding: base64',
      `Content-Disposition: attachment; filename="${a.filename}"`,
      '',
      base64Lines(data),
    );
  }
  parts.push(`--${boundary}--`, '');
  return [...head, `Content-Type: multipart/mixed; boundary="${boundary}"`, '', ...parts].join('\r\n');
}

/** GTUBE: SpamAssassin's test string, 1000 points. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** A tiny Windows executable: an MZ header whose e_lfanew points at a PE header, as loaders check. */
export const FAKE_EXE = (() => {
  const image = Buffer.concat([Buffer.alloc(0x80), randomBytes(200)]);
  image.write('MZ', 0, 'latin1');
  image.writeUInt16LE(0x40, 0x18);
  image.writeUInt32LE(0x40, 0x3c);
  image.write('PE\0\0', 0x40, 'latin1');
  return image;
})();
