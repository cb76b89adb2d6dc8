// Talks to a running console over HTTP the way a browser would: one cookie jar, the CSRF token read from the
// page, an Origin header on every POST. Every response is kept, so a test can prove no secret was served.
import { request } from 'node:http';
import { type RunningConsole, startConsole } from '../../src/apps/console/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';

export interface PageResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  readonly url: string;
}

export interface PostOptions {
  /** Default: the console's own origin. `null` sends no Origin header. */
  readonly origin?: string | null;
  readonly referer?: string;
  /** Default: the token of the last page fetched. `null` sends none. */
  readonly token?: string | null;
  /** Default: the jar's cookie. `null` sends none. */
  readonly cookie?: string | null;
  readonly contentType?: string;
}

export class ConsoleBrowser {
  readonly base: string;
  cookie: string | undefined;
  token: string | undefined;
  /** Every response body and header block seen, for the no-secret check. */
  readonly seen: string[] = [];

  /** A console in this process, or one in a child process (only its URL is used). */
  constructor(running: Pick<RunningConsole, 'url'>) {
    this.base = running.url;
  }

  async get(path: string): Promise<PageResponse> {
    const headers: Record<string, string> = {};
    if (this.cookie !== undefined) headers.cookie = this.cookie;
    return this.#keep(await fetch(new URL(path, this.base), { headers, redirect: 'manual' }));
  }

  /** GET, following 303s within the console; returns the last page. */
  async follow(path: string, limit = 5): Promise<PageResponse> {
    let page = await this.get(path);
    for (let i = 0; i < limit && page.status >= 300 && page.status < 400; i++) {
      page = await this.get(page.headers.get('location') ?? '/');
    }
    return page;
  }

  async post(path: string, fields: Record<string, string>, options: PostOptions = {}): Promise<PageResponse> {
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
    };
    const origin = options.origin === undefined ? this.base : options.origin;
    if (origin !== null) headers.origin = origin;
    if (options.referer !== undefined) headers.referer = options.referer;
    const cookie = options.cookie === undefined ? this.cookie : options.cookie;
    if (cookie !== null && cookie !== undefined) headers.cookie = cookie;
    const token = options.token === undefined ? this.token : options.token;
    const body = new URLSearchParams(fields);
    if (token !== null && token !== undefined) body.set('_csrf', token);
    return this.#keep(
      await fetch(new URL(path, this.base), { method: 'POST', headers, body, redirect: 'manual' }),
    );
  }

  async #keep(response: Response): Promise<PageResponse> {
    const body = await response.text();
    const setCookie = response.headers.get('set-cookie');
    if (setCookie !== null) this.cookie = setCookie.split(';')[0];
    const token = /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
    if (token !== undefined) this.token = token;
    this.seen.push(`${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${body}`);
    return { status: response.status, headers: response.headers, body, url: response.url };
  }
}

/** The visible text of a page, roughly: tags dropped, entities of the escaper decoded, spaces collapsed. */
export function textOf(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/\s+/g, ' ')
    .trim();
}

/** A raw request with a Host header of our choosing (fetch always sends the URL's own). */
export function rawGet(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A console on a free port with its embedded, auto-approving emulator, and a browser for it. */
export interface EmbeddedConsole {
  readonly running: RunningConsole;
  readonly emulator: RunningEmulator;
  readonly browser: ConsoleBrowser;
}

/** Starts an {@link EmbeddedConsole}; the emulator's client secret joins `secrets` (what no page may serve). */
export async function startEmbeddedConsole(secrets: Set<string>): Promise<EmbeddedConsole> {
  const running = await startConsole({ port: 0, emulator: { autoApprove: true } });
  if (running.emulator === undefined) throw new Error('no embedded emulator');
  secrets.add(running.emulator.options.clientSecret);
  return { running, emulator: running.emulator, browser: new ConsoleBrowser(running) };
}
