// A quarantined message as safe plain text: headers and text only, HTML reduced to text, nothing
// of the message ever handed to the browser as markup. Big messages are read only in part.
import { simpleParser } from 'mailparser';
import { createReadStream } from 'node:fs';
import { decodeWords } from '../mail/message-head.js';

export interface MessageView {
  headers: Array<[string, string]>;
  text: string;
  attachments: Array<{ filename: string; contentType: string; size: number }>;
  truncated: boolean;
}

const READ_LIMIT = 4 * 1024 * 1024;
const TEXT_LIMIT = 256 * 1024;
const SHOWN_HEADERS = ['from', 'to', 'cc', 'date', 'subject', 'reply-to', 'message-id'];

export async function viewMessage(path: string, size: number): Promise<MessageView> {
  const parsed = await simpleParser(createReadStream(path, { end: READ_LIMIT - 1 }), {
    skipImageLinks: true,
    skipHtmlToText: false,
    maxHtmlLengthToParse: TEXT_LIMIT * 4,
  });
  const headers: Array<[string, string]> = [];
  for (const line of parsed.headerLines) {
    if (!SHOWN_HEADERS.includes(line.key)) continue;
    const colon = line.line.indexOf(':');
    headers.push([
      line.line.slice(0, colon),
      decodeWords(
        line.line
          .slice(colon + 1)
          .replace(/\r?\n[ \t]+/g, ' ')
          .trim(),
      ),
    ]);
  }
  const text = parsed.text ?? '';
  return {
    headers,
    text: text.length > TEXT_LIMIT ? `${text.slice(0, TEXT_LIMIT)}\n[…]` : text,
    attachments: parsed.attachments.map((a) => ({ filename: a.filename ?? '(unnamed)', contentType: a.contentType, size: a.size })),
    truncated: size > READ_LIMIT || text.length > TEXT_LIMIT,
  };
}
