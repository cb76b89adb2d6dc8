// The bounded read of an HTTP answer's body, shared by the token endpoint client (alarmbox/) and the API client
// (api/): neither holds more of an answer in memory than MAX_RESPONSE_BYTES.
import { AlarmboxError } from '../errors.ts';

/**
 * The most of an AlarmBox answer this package reads: a token response is a few hundred bytes and an API
 * answer a few kilobytes; a larger body is a proxy or server fault, not data to hold in memory.
 */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** The body was longer than {@link MAX_RESPONSE_BYTES}: reading stopped there and the connection was dropped. */
export class ResponseTooLargeError extends AlarmboxError {
  override readonly name: string = 'ResponseTooLargeError';
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    // A body this large is a proxy or server fault: retrying later is the only thing a caller can do.
    super(`応答本文が大きすぎます (上限 ${limitBytes} バイト)`, { reason: 'temporary' });
    this.limitBytes = limitBytes;
  }
}

/**
 * Reads `response`'s body as UTF-8 text, at most `limitBytes`: a larger body (announced by Content-Length or
 * found while streaming) cancels the stream, which aborts the connection, so memory stays bounded.
 * Reads under the request's signal: a server that sends headers and then stalls times out too.
 */
export async function readBodyLimited(response: Response, limitBytes = MAX_RESPONSE_BYTES): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  const body = response.body;
  if (Number.isFinite(declared) && declared > limitBytes) {
    await body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError(limitBytes);
  }
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(limitBytes);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, total));
}
