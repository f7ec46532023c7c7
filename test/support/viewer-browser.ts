// A cookie-keeping client of the viewer, as a browser without scripts: it logs in through the
// login form, and posts our own forms with the session's CSRF token. The unit tests run it against
// the app in-process; the cluster tests against a node's real HTTPS server (httpsTransport).
import { request as httpsRequest } from 'node:https';

export interface Page {
  status: number;
  location: string | null;
  text: string;
  headers: Headers;
}

export interface ViewerRequest {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** Sends one request to `path` (/viewer/…) and answers with the response, cookies unread. */
export type ViewerTransport = (path: string, request: ViewerRequest) => Promise<Response>;

export class ViewerBrowser {
  cookies = new Map<string, string>();
  constructor(private readonly transport: ViewerTransport) {}

  async request(path: string, init: { method?: string; form?: Record<string, string>; body?: string; headers?: Record<string, string> } = {}): Promise<Page> {
    const headers: Record<string, string> = { host: 'mx.company.com', ...(init.headers ?? {}) };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const body = init.body ?? (init.form ? new URLSearchParams(init.form).toString() : undefined);
    const response = await this.transport(path, { method: init.method ?? (body !== undefined ? 'POST' : 'GET'), headers, body });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, value] = pair!.split('=');
      if (value) this.cookies.set(name!, value);
      else this.cookies.delete(name!);
    }
    return { status: response.status, location: response.headers.get('location'), text: await response.text(), headers: response.headers };
  }

  async csrf(path: string): Promise<string> {
    return /name="_csrf" value="([^"]+)"/.exec((await this.request(path)).text)?.[1] ?? '';
  }

  async login(username: string, password: string): Promise<Page> {
    return this.request('/viewer/login', { form: { _csrf: await this.csrf('/viewer/login'), username, password } });
  }

  /** A POST from one of our own pages, with the session's token. */
  async post(path: string, form: Record<string, string> = {}): Promise<Page> {
    return this.request(path, { form: { _csrf: await this.csrf('/viewer/messages'), ...form } });
  }
}

/**
 * Requests to a real viewer on 127.0.0.1:`port`. Its certificate is the appliance's self-signed
 * one, made for its host name: not verified here, as a first visit in a browser would click through.
 */
export function httpsTransport(port: number): ViewerTransport {
  return (path, { method, headers, body }) =>
    new Promise((resolve, reject) => {
      const sized = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
      const req = httpsRequest({ host: '127.0.0.1', port, path, method, headers: sized, rejectUnauthorized: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, one);
          }
          // Response refuses a body with 204 and 304; the viewer sends neither with one.
          resolve(
            new Response([204, 304].includes(res.statusCode ?? 0) ? null : Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: responseHeaders }),
          );
        });
      });
      req.setTimeout(60_000, () => req.destroy(new Error(`no answer from the viewer on :${port} to ${method} ${path} within 60 s`)));
      req.on('error', reject);
      req.end(body);
    });
}
