// One HTTP exchange with the AlarmBox API: Node's fetch under a timeout that covers the headers and the whole
// body, no redirects followed, and transport failures turned into typed errors that say whether a POST may
// have reached AlarmBox.

import { errorCode } from '../error-code.ts';
import { ResponseTooLargeError, readBodyLimited } from '../http/body.ts';
import { OutgoingRequestError } from '../http/errors.ts';
import type { FetchLike } from '../http/fetch.ts';
import type { HttpMethod } from './endpoints.ts';
import {
  type AlarmboxApiCallError,
  AlarmboxApiOutcomeUnknownError,
  AlarmboxApiUnavailableError,
  MESSAGES,
} from './errors.ts';
import { classifyBody, type ReadBody } from './response-body.ts';

export interface Exchange {
  readonly status: number;
  readonly headers: Headers;
  readonly body: ReadBody;
}

export interface ExchangeRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  /** For messages: `POST /ps/v1/credit_checks`. */
  readonly call: string;
  readonly path: string;
  readonly accessToken: string;
  readonly body: unknown;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly userAgent: string;
  /** Requests sent for this call so far, this one included (for messages). */
  readonly attempt: number;
  /** The client's fetch (src/http/fetch.ts: proxy from the environment, or the app's own). */
  readonly fetch: FetchLike;
}

/**
 * Errors that prove the request never left this machine (no connection was made), so even a POST is known
 * not to have been carried out.
 */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export async function exchange(req: ExchangeRequest): Promise<Exchange> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal === undefined ? timeout : AbortSignal.any([timeout, req.signal]);
  const headers: Record<string, string> = {
    // RFC 6750 §2.1: the token in the Authorization header only, never in the URL (it would end up in logs).
    Authorization: `Bearer ${req.accessToken}`,
    Accept: 'application/json',
    'User-Agent': req.userAgent,
  };
  if (req.body !== undefined) headers['Content-Type'] = 'application/json';
  let sentHeaders = false;
  try {
    const response = await req.fetch(req.url, {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal,
      // A redirect would replay the request (and the token) somewhere we were not configured to call.
      redirect: 'manual',
    });
    sentHeaders = true;
    // Read under the same signal: a server that sends headers and then stalls must time out too.
    const text = await readBodyLimited(response);
    return {
      status: response.status,
      headers: response.headers,
      body: classifyBody(text, response.headers.get('content-type')),
    };
  } catch (error) {
    if (error instanceof ResponseTooLargeError) throw tooLargeError(error, req);
    if (error instanceof OutgoingRequestError) {
      // The proxy refused or the certificate was not trusted: nothing reached AlarmBox, not even a POST.
      const never = req.method === 'GET' ? '' : '接続できなかったため、購入は行われていません。';
      throw new AlarmboxApiUnavailableError(`${error.message}${never}`, {
        method: req.method,
        path: req.path,
        cause: error,
        attempts: req.attempt,
        reason: error.reason,
      });
    }
    if (req.signal?.aborted === true && !timeout.aborted) {
      // The caller gave up. A GET simply ends; a POST may already be at AlarmBox, so it says so.
      if (req.method === 'GET') throw req.signal.reason;
      throw new AlarmboxApiOutcomeUnknownError(
        MESSAGES.postUnknown(`中断 (${req.call}): 呼び出し元がリクエストを中断しました`),
        {
          method: req.method,
          path: req.path,
          cause: error,
        },
      );
    }
    throw transportError(error, req, timeout.aborted, sentHeaders);
  }
}

function transportError(
  error: unknown,
  req: ExchangeRequest,
  timedOut: boolean,
  answered: boolean,
): AlarmboxApiCallError {
  // undici reports refused / reset / DNS failures as `TypeError: fetch failed` with the system error as cause.
  const code = timedOut ? undefined : errorCode(error);
  const what = timedOut
    ? MESSAGES.timeout(req.call, req.timeoutMs)
    : MESSAGES.network(req.call, code ?? 'ネットワークエラー');
  const base = { method: req.method, path: req.path, cause: error };
  const neverSent = !timedOut && !answered && code !== undefined && NOT_SENT.has(code);
  if (req.method !== 'GET' && !neverSent) {
    // The request may have reached AlarmBox (timeout, reset, answer cut off): a purchase may have happened.
    return new AlarmboxApiOutcomeUnknownError(MESSAGES.postUnknown(what), base);
  }
  return new AlarmboxApiUnavailableError(
    `${what}。${neverSent && req.method !== 'GET' ? '接続できなかったため、購入は行われていません。' : ''}${MESSAGES.networkHint}`,
    { ...base, attempts: req.attempt },
  );
}

/** An answer past the size limit: a GET is retried later; a POST was answered, so it may have been carried out. */
function tooLargeError(error: ResponseTooLargeError, req: ExchangeRequest): AlarmboxApiCallError {
  const what = `応答エラー (${req.call}): AlarmBox の応答本文が上限 (${error.limitBytes} バイト) を超えたため読み込みを中止しました`;
  const base = { method: req.method, path: req.path, cause: error };
  if (req.method !== 'GET') return new AlarmboxApiOutcomeUnknownError(MESSAGES.postUnknown(what), base);
  return new AlarmboxApiUnavailableError(`${what}。しばらくしてから再実行してください。`, {
    ...base,
    attempts: req.attempt,
  });
}
