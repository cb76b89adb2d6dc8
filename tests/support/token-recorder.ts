// An HTTP pass-through in front of the emulator that remembers what crossed it: the refresh tokens the token
// endpoint issued and the revocation requests, so that a test can prove *which* pair was revoked. It can also
// hold a token answer back while the test breaks something (the database between the checks and the save).
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRevocation {
  readonly token: string;
  readonly hint: string | null;
  readonly status: number;
}

export class TokenRecorder {
  readonly #server: Server;
  readonly #upstream: string;
  /** Refresh tokens of the 200 answers of `POST /oauth/token`, in order. */
  readonly issued: string[] = [];
  /** Authorization codes sent to `POST /oauth/token` (grant_type=authorization_code). */
  readonly codesSent: string[] = [];
  readonly revocations: RecordedRevocation[] = [];
  /** Runs after AlarmBox answered a token request and before the answer is passed on. */
  beforeTokenAnswer: (() => Promise<void>) | undefined;

  private constructor(upstream: string) {
    this.#upstream = upstream;
    this.#server = createServer((req, res) => {
      this.#forward(req)
        .then(({ status, headers, body }) => {
          res.writeHead(status, headers);
          res.end(body);
        })
        .catch(() => res.destroy());
    });
  }

  static async start(upstream: string): Promise<TokenRecorder> {
    const recorder = new TokenRecorder(upstream);
    recorder.#server.listen(0, '127.0.0.1');
    await once(recorder.#server, 'listening');
    return recorder;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  clear(): void {
    this.issued.length = 0;
    this.codesSent.length = 0;
    this.revocations.length = 0;
    this.beforeTokenAnswer = undefined;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #forward(
    req: IncomingMessage,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const requestBody = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'authorization', 'accept']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const answer = await fetch(new URL(path, this.#upstream), {
      method,
      headers,
      body: method === 'GET' || method === 'HEAD' ? undefined : requestBody,
      redirect: 'manual',
    });
    const body = Buffer.from(await answer.arrayBuffer());
    const form = new URLSearchParams(requestBody.toString('utf8'));
    const pathname = new URL(path, this.#upstream).pathname;
    if (pathname === '/oauth/token' && method === 'POST') {
      if (form.get('grant_type') === 'authorization_code') this.codesSent.push(form.get('code') ?? '');
      if (answer.status === 200) {
        const refresh = (JSON.parse(body.toString('utf8')) as { refresh_token?: string }).refresh_token;
        if (refresh !== undefined) this.issued.push(refresh);
      }
      await this.beforeTokenAnswer?.();
    }
    if (pathname === '/oauth/revoke' && method === 'POST') {
      this.revocations.push({
        token: form.get('token') ?? '',
        hint: form.get('token_type_hint'),
        status: answer.status,
      });
    }
    const out: Record<string, string> = {};
    for (const [name, value] of answer.headers) {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(name))
        out[name] = value;
    }
    return { status: answer.status, headers: out, body };
  }
}
