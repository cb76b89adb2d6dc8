import { describe, expect, it } from 'vitest';
import { maskToken, redact } from '../../src/alarmbox/redact.ts';

describe('redact', () => {
  const t = 'CU8wbymHIiKUYy6tsY8dbCbzsZNdEucx70d2ZpBLz3Q';
  it.each([
    `{"access_token":"${t}","token_type":"Bearer"}`,
    `{"refresh_token" : "abc"}`,
    `code=${t}&state=x`,
    `/oauth/authorize/native?code=short`,
    `Authorization: Bearer ${t}`,
    `some html ${t} page`,
    `client_secret=hunter2hunter2`,
  ])('scrubs %s', (input) => {
    const out = redact(input);
    expect(out).toContain('[REDACTED]');
    for (const secret of [t, 'abc"', 'short', 'hunter2hunter2']) expect(out).not.toContain(secret);
  });

  it('keeps error codes readable and bounds the length', () => {
    expect(redact('{"error":"invalid_grant"}')).toBe('{"error":"invalid_grant"}');
    expect(redact('x'.repeat(5000)).length).toBeLessThan(600);
  });

  it('masks a token to its ends', () => {
    expect(maskToken(t)).toBe('CU8w…Lz3Q (43 文字)');
  });
});
