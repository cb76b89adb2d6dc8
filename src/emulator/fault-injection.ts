// Applies the FaultPlan to one endpoint as Hono middleware, so that the route handlers stay fault-free. Before
// `next()`: delay → drop before → injected status or OAuth error (the request is not processed). The handler runs
// (with `tokenLength`). After it, on `c.res`: drop after commit / mid-body → body replacement or JSON tampering →
// echo of the request in an error answer.
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context, MiddlewareHandler, Next } from 'hono';
import {
  INVALID_TOKEN_DESCRIPTIONS,
  JSON_CONTENT_TYPE,
  jsonResponse,
  wwwAuthenticate,
} from './doorkeeper-errors.ts';
import { readEcho, withEcho } from './echo.ts';
import { type FaultEndpoint, type FaultSpec, HUGE_BODY_BYTES } from './faults.ts';
import { HTML_CONTENT_TYPE } from './html.ts';
import { parseJsonObject } from './params.ts';
import type { EmulatorEnv, EmulatorState } from './state.ts';

export function faults(state: EmulatorState, endpoint: FaultEndpoint): MiddlewareHandler<EmulatorEnv> {
  return async (c, next) => {
    const spec = state.faults.take(endpoint);
    if (spec === undefined) return next();
    state.stats.faultInjected(endpoint);
    if (spec.delayMs !== undefined && spec.delayMs > 0) await sleep(spec.delayMs);
    if (spec.drop === 'before') return dropConnection(c);
    // A 1 GiB body is never read back into an echo.
    const echoing = spec.echo === true && spec.body !== 'huge';
    if (spec.status !== undefined) {
      const injected = injectedStatus(spec);
      return echoing ? withEcho(injected, await readEcho(c.req.raw), true) : injected;
    }
    if (spec.oauthError !== undefined) return injectedOAuthError(spec.oauthError);
    // The handler reads the original request; the echo reads a copy.
    const echo = echoing ? readEcho(c.req.raw.clone()) : undefined;
    await withTokenLength(state, spec.tokenLength, next);
    // The grant (and its rotation) is committed and counted; the client never learns the result.
    if (spec.drop === 'after-commit') return replaceResponse(c, dropConnection(c));
    if (spec.drop === 'mid-body') return replaceResponse(c, await dropMidBody(c, c.res));
    const answered = await mangled(c.res, spec);
    replaceResponse(c, echo === undefined ? answered : await withEcho(answered, await echo));
  };
}

/** Replaces the answer whole: assigning `c.res` over a set one would copy the old headers into the new. */
function replaceResponse(c: Context<EmulatorEnv>, response: Response): void {
  if (response === c.res) return;
  c.res = undefined;
  c.res = response;
}

/** The `body` or `response` fault applied to a processed request's answer. */
function mangled(response: Response, spec: FaultSpec): Promise<Response> | Response {
  if (spec.body !== undefined) return replaceBody(response, spec.body);
  if (spec.response !== undefined) return tamperJson(response, spec.response);
  return response;
}

/** Destroys the TCP connection: the client sees a network error (ECONNRESET / "socket hang up"). */
function dropConnection(c: Context<EmulatorEnv>): Response {
  c.env.incoming.socket.destroy();
  // Tells @hono/node-server that nothing is left to write.
  return RESPONSE_ALREADY_SENT;
}

/**
 * Sends the status line, the headers and half the body, then resets the connection: the client has seen a
 * 200 and must still treat the answer as lost (a proxy or network dying mid-transfer).
 */
async function dropMidBody(c: Context<EmulatorEnv>, response: Response): Promise<Response> {
  const body = Buffer.from(await response.arrayBuffer());
  const outgoing = c.env.outgoing;
  const headers: Record<string, string> = Object.fromEntries(response.headers);
  headers['content-length'] = String(body.length);
  outgoing.writeHead(response.status, headers);
  outgoing.write(body.subarray(0, body.length >> 1), () => {
    c.env.incoming.socket.destroy();
  });
  return RESPONSE_ALREADY_SENT;
}

/** What a failing server or proxy in front of Doorkeeper answers. */
function injectedStatus(spec: FaultSpec): Response {
  const status = spec.status ?? 500;
  if (status === 401) {
    // Like the API's answer to a rejected token (bearer.ts): no body, the RFC 6750 §3.1 challenge.
    return new Response(null, {
      status,
      headers: {
        'Cache-Control': 'no-store',
        'Content-Length': '0',
        'WWW-Authenticate': wwwAuthenticate('invalid_token', INVALID_TOKEN_DESCRIPTIONS.revoked),
      },
    });
  }
  const headers: Record<string, string> =
    spec.retryAfter === undefined ? {} : { 'Retry-After': String(spec.retryAfter) };
  const answer = (body: string | ReadableStream<Uint8Array>, type: string) =>
    new Response(body, { status, headers: { ...headers, 'Content-Type': type } });
  switch (spec.body ?? 'html') {
    case 'html':
      return answer(htmlErrorPage(status), HTML_CONTENT_TYPE);
    case 'broken-json':
      return answer(
        '{"error":"server_error","error_description":"The authorization server encou',
        JSON_CONTENT_TYPE,
      );
    case 'empty':
      return new Response(null, { status, headers: { ...headers, 'Content-Length': '0' } });
    case 'huge':
      return answer(hugeStream('{"error":"server_error","padding":"'), JSON_CONTENT_TYPE);
  }
}

/** An OAuth error body with whatever values the plan gives (faults.ts `oauthError`). */
function injectedOAuthError(fault: NonNullable<FaultSpec['oauthError']>): Response {
  const body = { error: fault.error, error_description: fault.error_description };
  return jsonResponse(body, fault.status ?? 400, { 'Cache-Control': 'no-store' });
}

/** Runs the rest of the chain with the store issuing tokens of `length` characters. */
async function withTokenLength(state: EmulatorState, length: number | undefined, next: Next): Promise<void> {
  if (length === undefined) return next();
  const previous = state.store.tokenLength;
  state.store.tokenLength = length;
  try {
    await next();
  } finally {
    state.store.tokenLength = previous;
  }
}

/**
 * `prefix`, then padding up to {@link HUGE_BODY_BYTES}, produced as the client reads it (no Content-Length):
 * only a client that stops reading keeps its memory bounded.
 */
function hugeStream(prefix: string): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent === 0) {
        const head = new TextEncoder().encode(prefix);
        controller.enqueue(head);
        sent += head.length;
        return;
      }
      if (sent >= HUGE_BODY_BYTES) {
        controller.enqueue(new TextEncoder().encode('"}'));
        controller.close();
        return;
      }
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
}

/** The request was processed; its answer arrives mangled (status and headers kept). */
async function replaceBody(response: Response, kind: NonNullable<FaultSpec['body']>): Promise<Response> {
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  const init = { status: response.status, headers };
  switch (kind) {
    case 'html':
      headers.set('Content-Type', HTML_CONTENT_TYPE);
      return new Response(htmlErrorPage(response.status), init);
    case 'broken-json': {
      // A JSON body cut in half, as a truncated transfer would leave it.
      const text = await response.text();
      return new Response(text.length > 1 ? text.slice(0, Math.floor(text.length / 2)) : '{"', init);
    }
    case 'empty':
      headers.set('Content-Length', '0');
      return new Response(null, init);
    case 'huge': {
      // The real answer, its closing brace replaced by a padding key that never seems to end.
      const text = await response.text();
      return new Response(hugeStream(`${text.replace(/\}\s*$/, '')},"padding":"`), init);
    }
  }
}

/** Drops and sets keys of a successful JSON object body, keeping the other keys in their order. */
async function tamperJson(response: Response, tamper: NonNullable<FaultSpec['response']>): Promise<Response> {
  const type = response.headers.get('content-type') ?? '';
  if (!response.ok || !type.startsWith('application/json')) return response;
  const text = await response.text();
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  const body = parseJsonObject(text);
  if (body === undefined) return new Response(text, { status: response.status, headers });
  for (const key of tamper.omit ?? []) delete body[key];
  Object.assign(body, tamper.set ?? {});
  return new Response(JSON.stringify(body), { status: tamper.status ?? response.status, headers });
}

function htmlErrorPage(status: number): string {
  const title = `${status} ${STATUS_TEXT[status] ?? 'Error'}`;
  return `<html>\n<head><title>${title}</title></head>\n<body>\n<center><h1>${title}</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n`;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
};

/** Unref'd: a pending injected delay must not keep a closed emulator's process alive. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
