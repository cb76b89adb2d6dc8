// The small rules the client is built from, one function each: the Bearer challenge, Retry-After, backoff,
// body summaries, the endpoint table, and the CLI's argument checks (nothing is sent for bad input).
import { describe, expect, it } from 'vitest';
import { isInvalidTokenChallenge, parseBearerChallenge } from '../../src/api/bearer-challenge.ts';
import { expandPath, resolveEndpoints, scopeForPath } from '../../src/api/endpoints.ts';
import { classifyBody, summariseBody } from '../../src/api/response-body.ts';
import { DEFAULT_RETRY_POLICY, decideRetry, parseRetryAfterMs } from '../../src/api/retry.ts';
import { creditCheckResultLabel } from '../../src/api/summary.ts';
import { planCreditCheck } from '../../src/apps/cli/commands/credit-check.ts';
import { backoffDelayMs } from '../../src/backoff.ts';
import { expectReasonOf } from '../support/rejections.ts';

describe('parseBearerChallenge (RFC 6750 §3)', () => {
  it("reads Doorkeeper's challenge", () => {
    const c = parseBearerChallenge(
      'Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token expired"',
    );
    expect(c).toEqual({
      error: 'invalid_token',
      errorDescription: 'The access token expired',
      scope: undefined,
    });
    expect(isInvalidTokenChallenge(c)).toBe(true);
  });

  it('handles case, token values, escapes and other schemes', () => {
    expect(parseBearerChallenge('Basic realm="x", bearer error=invalid_token')?.error).toBe('invalid_token');
    expect(parseBearerChallenge('Bearer error="insufficient_scope", scope="a \\"b\\""')).toMatchObject({
      error: 'insufficient_scope',
      scope: 'a "b"',
    });
    expect(parseBearerChallenge('Bearer realm="x"')?.error).toBeUndefined();
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseBearerChallenge(null)).toBeUndefined();
    expect(isInvalidTokenChallenge(parseBearerChallenge('Bearer error="invalid_request"'))).toBe(false);
  });
});

describe('retries', () => {
  it('Retry-After: seconds, HTTP-date, garbage', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfterMs('7', now)).toBe(7_000);
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfterMs('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });

  it('backoff ceilings grow up to maxMs; the draw places the delay between half the ceiling and all of it', () => {
    const backoff = { firstMs: 100, maxMs: 500, random: () => 0.9999 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, backoff))).toEqual([99, 199, 399, 499, 499]);
    expect(backoffDelayMs(3, { ...backoff, random: () => 0 })).toBe(200);
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, { ...backoff, factor: 1.5, random: () => 0 }))).toEqual([
      50, 75, 112, 168,
    ]);
  });

  it('decides: only 429 / 5xx, bounded, Retry-After within the cap wins over a shorter backoff', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 3, retryAfterCapMs: 10_000, random: () => 0 };
    expect(decideRetry(1, 404, undefined, policy)).toEqual({ retry: false, why: 'not_retryable' });
    expect(decideRetry(1, 400, undefined, policy).retry).toBe(false);
    expect(decideRetry(1, 503, 2_000, policy)).toEqual({ retry: true, delayMs: 2_000 });
    // The default policy's second ceiling is 500 ms: a draw of 0 waits half of it.
    expect(decideRetry(2, 429, undefined, policy)).toEqual({ retry: true, delayMs: 250 });
    expect(decideRetry(3, 500, undefined, policy)).toEqual({ retry: false, why: 'attempts_exhausted' });
    expect(decideRetry(1, 503, 60_000, policy)).toEqual({ retry: false, why: 'retry_after_too_long' });
  });
});

describe('error bodies', () => {
  it.each([
    ['', null, '応答本文なし'],
    ['<html><body>502</body></html>', 'text/html', 'HTML の応答'],
    ['{"errors":[{"field":"deal","message":"bad"}]}', 'application/json', 'deal: bad'],
    ['{"errors":{"deal":["bad","worse"]}}', 'application/json', 'deal: bad / deal: worse'],
    [
      '{"error":"invalid_request","error_description":"Missing"}',
      'application/json',
      'invalid_request: Missing',
    ],
    ['{"message":"nope"}', 'application/json', 'nope'],
    ['{"errors":', 'application/json', '壊れた JSON'],
    ['{"other":1}', 'application/json', 'JSON の応答'],
    ['upstream timeout\nmore', 'text/plain', 'テキストの応答: upstream timeout'],
  ])('%j (%s) → %s', (text, type, expected) => {
    expect(summariseBody(classifyBody(text, type))).toEqual(
      expected.startsWith('HTML') || expected.startsWith('壊れた') || expected.startsWith('JSON')
        ? expect.stringContaining(expected)
        : expected,
    );
  });

  it('never repeats a token found in a body', () => {
    const token = 'CU8wbymHIiKUYy6tsY8dbCbzsZNdEucx70d2ZpBLz3Q';
    const summary = summariseBody(classifyBody(`{"message":"bad token ${token}"}`, 'application/json'));
    expect(summary).not.toContain(token);
    expect(summariseBody(classifyBody(`token=${token}`, 'text/plain'))).not.toContain(token);
  });
});

describe('endpoint table', () => {
  it('corrects rows, adds rows, rejects bad ones', () => {
    const table = resolveEndpoints({
      createCreditCheck: { path: '/ps/v2/credit_checks' },
      listCustomers: { method: 'GET', path: '/mo/v1/customers', scope: 'read' },
    });
    expect(table.createCreditCheck).toEqual({
      method: 'POST',
      path: '/ps/v2/credit_checks',
      scope: 'credit_check:create',
    });
    expect(table.listCustomers?.path).toBe('/mo/v1/customers');
    expect(() => resolveEndpoints({ x: { method: 'GET', path: '/x' } })).toThrow(/scope/);
    expect(() => resolveEndpoints({ x: { method: 'FETCH' as 'GET', path: '/x', scope: 'read' } })).toThrow(
      /method/,
    );
    expect(() => resolveEndpoints({ x: { method: 'GET', path: '//evil/x', scope: 'read' } })).toThrow(/パス/);
  });

  it('fills placeholders percent-encoded and finds the scope of a concrete path', () => {
    expect(expandPath('/ps/v1/credit_checks/{id}', { id: '1/../2' })).toBe('/ps/v1/credit_checks/1%2F..%2F2');
    expect(() => expandPath('/a/{id}')).toThrow(/id/);
    const table = resolveEndpoints();
    expect(scopeForPath(table, 'GET', '/ps/v1/credit_checks/12?with_pdf=true')).toBe('read');
    expect(scopeForPath(table, 'POST', '/ps/v1/credit_checks')).toBe('credit_check:create');
    expect(scopeForPath(table, 'DELETE', '/ps/v1/credit_checks')).toBeUndefined();
  });
});

describe('credit-check CLI arguments', () => {
  const base = {};
  it('plans a purchase or a read', () => {
    expect(
      planCreditCheck({
        ...base,
        corporationNumber: '０００００００００００-０１',
        deal: '9',
        purchaseReason: ['1,4', '9'],
        comment: 'c',
      }),
    ).toEqual({
      kind: 'create',
      params: {
        corporation_number: '0000000000001',
        deal: 9,
        purchase_reasons: [1, 4, 9],
        purchase_reason_comment: 'c',
      },
      pdf: undefined,
    });
    expect(planCreditCheck({ ...base, id: '42' })).toEqual({ kind: 'get', id: '42', pdf: undefined });
  });

  it.each([
    [{ corporationNumber: '123456789012' }, '13 桁の法人番号', '(12 桁)'],
    [{ corporationNumber: '12345678901234' }, '13 桁の法人番号', '(14 桁)'],
    [{ corporationNumber: 'abc' }, '--corporation-number には', 'abc'],
    [{ corporationNumber: '0000000000001', deal: '3' }, '--deal には 1, 2, 9', '指定値: 3'],
    [{ corporationNumber: '0000000000001', purchaseReason: ['1,5'] }, '--purchase-reason には', '指定値: 5'],
    [{ corporationNumber: '0000000000001', comment: 'x'.repeat(1001) }, '1000 文字以内', '1001 文字'],
    [{ corporationNumber: '0000000000001', id: '1' }, '同時に指定できません', '--id だけ'],
    [{}, 'どちらかを指定してください', '例: alarmbox credit-check'],
    [{ id: '1', deal: '1' }, '購入 (--corporation-number) のときだけ', '--id'],
    [{ id: '1 2' }, '--id には', '例: --id 12345'],
    [
      { corporationNumber: '0000000000001', pdf: '/nonexistent-dir-for-test/x.pdf' },
      '保存先ディレクトリ',
      'ありません',
    ],
    [{ corporationNumber: '0000000000001', pdf: '/tmp' }, 'ディレクトリです', 'report.pdf'],
  ])('%o is refused naming cause and fix', (opts, cause, fix) => {
    let message = '';
    try {
      planCreditCheck({ ...base, ...opts });
    } catch (error) {
      message = expectReasonOf(error, 'usage').message;
    }
    expect(message).toContain(cause);
    expect(message).toContain(fix);
  });

  it('labels results in Japanese', () => {
    expect(['ok', 'hold', 'ng', null].map((r) => creditCheckResultLabel(r as 'ok'))).toEqual([
      '問題なし (ok)',
      '保留 (hold)',
      '要注意 (ng)',
      '未確定 (調査中)',
    ]);
  });
});
