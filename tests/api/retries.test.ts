// 429 / 5xx / timeouts / lost connections, counted at the emulator: GET is retried a bounded number of times
// with backoff and jitter; a POST (a purchase) reaches AlarmBox exactly once whatever happens.
import { beforeEach, describe, expect, it } from 'vitest';
import type { AlarmboxApi } from '../../src/api/client.ts';
import { AlarmboxApiOutcomeUnknownError, AlarmboxApiUnavailableError } from '../../src/api/errors.ts';
import { createAlarmboxApi } from '../../src/create.ts';
import type { FaultSpec } from '../../src/emulator/index.ts';
import { type ApiFixture, apiArrivals, eventually, useApiFixture } from '../support/api-fixture.ts';
import { closedPort } from '../support/closed-port.ts';
import { expectReasonOf } from '../support/rejections.ts';

let f: ApiFixture;
/** A credit check that exists, so a GET that gets through answers 200. */
let id: number | string;

useApiFixture((fixture) => {
  f = fixture;
});
beforeEach(async () => {
  id = (await f.api().creditChecks.create({ corporation_number: '0000000000001' })).credit_check_id;
  f.emulator.setFaults({});
});

/** Faults the emulator acted on for the API: with `status`, those requests never reached the route. */
const faulted = () => f.emulator.stats().faultsInjected.api;

describe('GET: bounded retries on 429 / 5xx', () => {
  it('retries 503 and 429 and then succeeds', async () => {
    const api = f.api();
    f.emulator.setFaults({ api: { status: 503, times: 2 } });
    expect((await api.creditChecks.get(id)).result).toBe('ok');
    expect(faulted()).toBe(2);
    expect(api.retries.map((r) => [r.cause, r.attempt])).toEqual([
      [503, 1],
      [503, 2],
    ]);
    f.emulator.setFaults({ api: { status: 429, times: 1 } });
    expect((await api.creditChecks.get(id)).result).toBe('ok');
    expect(faulted()).toBe(3);
  });

  it('stops after maxAttempts and reports a temporary failure', async () => {
    const api = f.api({ retry: { maxAttempts: 3 } });
    f.emulator.setFaults({ api: { status: 429 } });
    const error = await f.failure(api.creditChecks.get(id));
    expect(error).toBeInstanceOf(AlarmboxApiUnavailableError);
    expect(error).toMatchObject({ reason: 'temporary', attempts: 3, statusCode: 429 });
    expect(error.message).toContain('3 回試行');
    expect(faulted()).toBe(3);

    const once = f.api({ retry: { maxAttempts: 1 } });
    await f.failure(once.creditChecks.get(id));
    expect(faulted()).toBe(4);
  });

  it('backs off exponentially with jitter drawn for every retry', async () => {
    const draws = [0.5, 0.25, 0.999];
    const api = f.api({
      retry: { maxAttempts: 4, baseDelayMs: 8, maxDelayMs: 1_000, random: () => draws.shift() ?? 0 },
    });
    f.emulator.setFaults({ api: { status: 502 } });
    await f.failure(api.creditChecks.get(id));
    // Ceilings 8, 16, 32 ms (doubling); each delay is half its ceiling plus the draw times the other half.
    expect(api.retries.map((r) => r.delayMs)).toEqual([6, 10, 31]);
    expect(faulted()).toBe(4);
  });

  it('honours a Retry-After within the cap', async () => {
    const api = f.api({ retry: { retryAfterCapMs: 5_000 } });
    f.emulator.setFaults({ api: { status: 429, retryAfter: 1, times: 1 } });
    expect((await api.creditChecks.get(id)).result).toBe('ok');
    expect(api.retries.map((r) => r.delayMs)).toEqual([1_000]);
  });

  it('gives up at once on a Retry-After beyond the cap', async () => {
    const api = f.api({ retry: { retryAfterCapMs: 5_000 } });
    f.emulator.setFaults({ api: { status: 503, retryAfter: 120 } });
    const error = await f.failure(api.creditChecks.get(id));
    expect(error).toMatchObject({ retryAfterMs: 120_000, attempts: 1 });
    expect(error.message).toContain('Retry-After: 120 秒');
    expect(api.retries).toEqual([]);
  });

  it('a GET that times out is reported as temporary, without waiting for the server', async () => {
    const api = f.api({ timeoutMs: 300 });
    f.emulator.setFaults({ api: { delayMs: 2_000, times: 1 } });
    const error = await f.failure(api.creditChecks.get(id));
    expectReasonOf(error, 'temporary', AlarmboxApiUnavailableError);
    expect(error.message).toMatch(/^タイムアウト \(GET \/ps\/v1\/credit_checks\/\d+\): .*1 秒以内/);
    expect(faulted()).toBe(1);
  });

  it.each<[FaultSpec, string]>([
    [{ status: 500, body: 'empty' }, '応答本文なし'],
    [{ status: 502, body: 'html' }, 'HTML の応答'],
    [{ status: 503, body: 'broken-json' }, '壊れた JSON'],
  ])('empty and non-JSON error bodies (%o) are summarised', async (spec, summary) => {
    const api = f.api({ retry: { maxAttempts: 1 } });
    f.emulator.setFaults({ api: spec });
    const error = await f.failure(api.creditChecks.get(id));
    expect(error.message).toContain(summary);
    expect(error.message).not.toMatch(/<html|server_error/);
  });
});

describe('POST: sent exactly once', () => {
  const buy = (api: AlarmboxApi = f.api()) =>
    api.creditChecks.create({ corporation_number: '0000000000002' });

  it('503: not retried; the outcome is reported as unknown', async () => {
    f.emulator.setFaults({ api: { status: 503 } });
    const error = await f.failure(buy());
    expect(error).toBeInstanceOf(AlarmboxApiOutcomeUnknownError);
    expect(error).toMatchObject({ reason: 'unexpected', mayHaveBeenProcessed: true, statusCode: 503 });
    expect(error.message).toContain('自動では再送していません');
    expect(faulted()).toBe(1);
  });

  it('429: not retried; nothing was bought, so it is temporary', async () => {
    f.emulator.setFaults({ api: { status: 429, retryAfter: 1 } });
    const error = await f.failure(buy());
    expect(error).toBeInstanceOf(AlarmboxApiUnavailableError);
    expect(error).toMatchObject({ reason: 'temporary', mayHaveBeenProcessed: false });
    expect(error.message).toContain('購入は行われていません');
    expect(faulted()).toBe(1);
  });

  it.each(['after-commit', 'mid-body'] as const)(
    'connection dropped %s: bought once at the emulator, never resent',
    async (drop) => {
      const before = f.emulator.stats().apiRequests.ok ?? 0;
      f.emulator.setFaults({ api: { drop } });
      const error = await f.failure(buy());
      expect(error).toBeInstanceOf(AlarmboxApiOutcomeUnknownError);
      expect(error.message).toContain('購入が完了したかどうかは分かりません');
      expect(faulted()).toBe(1);
      expect((f.emulator.stats().apiRequests.ok ?? 0) - before, 'API requests at AlarmBox').toBe(1);
    },
  );

  it('timeout: the emulator still buys once, and the client never sends again', async () => {
    const before = f.emulator.stats().apiRequests.ok ?? 0;
    f.emulator.setFaults({ api: { delayMs: 1_200 } });
    const error = await f.failure(buy(f.api({ timeoutMs: 250 })));
    expect(error).toBeInstanceOf(AlarmboxApiOutcomeUnknownError);
    expect(error.message).toMatch(/^タイムアウト \(POST \/ps\/v1\/credit_checks\)/);
    // The delayed request is processed after the client gave up: one purchase, one arrival.
    await eventually(() => (f.emulator.stats().apiRequests.ok ?? 0) - before === 1);
    expect(faulted()).toBe(1);
  });

  it('connection refused: nothing left this machine, so it is temporary for a POST too', async () => {
    const port = await closedPort();
    // Counted from here: the claim is about these two calls, whatever beforeEach's purchase cost.
    const before = apiArrivals(f.emulator);
    const api = createAlarmboxApi({
      tokens: f.registered.alarmbox.tokens,
      baseUrl: `http://127.0.0.1:${port}`,
    });
    const post = await f.failure(buy(api));
    expect(post).toBeInstanceOf(AlarmboxApiUnavailableError);
    expect(post).toMatchObject({ reason: 'temporary', mayHaveBeenProcessed: false });
    expect(post.message).toContain('ECONNREFUSED');
    expect(post.message).toContain('購入は行われていません');
    const get = await f.failure(api.creditChecks.get(id));
    expect(get.reason).toBe('temporary');
    expect(apiArrivals(f.emulator) - before, 'API requests that reached AlarmBox').toBe(0);
  });
});
