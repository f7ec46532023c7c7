// Minimal types for the untyped packages we use: only what we call.
declare module 'mailsplit' {
  import { Transform } from 'node:stream';
  export interface MimeHeaders {
    get(key: string): string[];
    getFirst(key: string): string;
    getList(): Array<{ key: string; line: string }>;
  }
  export interface MimeNode {
    type: 'node';
    root: boolean;
    parentNode: MimeNode | false;
    headers: MimeHeaders;
    contentType: string | false;
    disposition: string | false;
    filename: string | false;
    encoding: string | false;
    multipart: string | false;
    /** The part's header block as it came, blank line included. */
    getHeaders(): Buffer;
    getDecoder(): Transform;
  }
  export type SplitterItem = MimeNode | { type: 'body' | 'data'; node: MimeNode; value: Buffer };
  export class Splitter extends Transform {
    constructor(config?: { maxHeadSize?: number; maxChildNodes?: number; ignoreEmbedded?: boolean });
    [Symbol.asyncIterator](): AsyncIterableIterator<SplitterItem>;
  }
}

declare module 'unbzip2-stream' {
  import { Transform } from 'node:stream';
  export default function bz2(): Transform;
}
