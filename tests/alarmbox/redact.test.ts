import { describe, expect, it } from 'vitest';
import { MIN_SECRET_LENGTH, rememberSecrets, withSecrets } from '../../src/text/operation-secrets.ts';
import { maskToken, redact, scrub } from '../../src/text/redact.ts';

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

describe('secrets of the operation under way, by value', () => {
  const code = 'ShortCode.With+Chars~1';
  const secret = 'cs.Short+Secret~9';

  it('replaces every known value and its encoded forms, inside the operation only', async () => {
    const echoed = [
      `Couldn't find grant ${code}`,
      `{"params":{"grant":"${code}"}}`,
      `grant=${encodeURIComponent(code)}`,
      `grant=${new URLSearchParams({ c: code }).toString().slice(2)}`,
      `<p>secret: ${secret}</p>`,
    ].join('\n');
    const inside = await withSecrets([code, secret], async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return redact(echoed);
    });
    for (const value of [code, secret, encodeURIComponent(code), 'ShortCode.With%2BChars%7E1']) {
      expect(inside).not.toContain(value);
    }
    expect(inside).toContain("Couldn't find grant [REDACTED]");
    // Outside any operation only the patterns apply: these values look like nothing.
    expect(redact(echoed)).toContain(code);
  });

  it('joins the operation under way: what a nested step learns stays known until the outer one ends', async () => {
    const token = 'Tok.Received~20chars';
    const text = await withSecrets([secret], async () => {
      await withSecrets([code], async () => rememberSecrets(token));
      return scrub(`${secret} ${code} ${token}`);
    });
    expect(text).toBe('[REDACTED] [REDACTED] [REDACTED]');
    expect(scrub(token)).toBe(token);
  });

  it('keeps concurrent operations apart', async () => {
    const [a, b] = await Promise.all([
      withSecrets(['secret-of-a'], async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return scrub('secret-of-a secret-of-b');
      }),
      withSecrets(['secret-of-b'], async () => scrub('secret-of-a secret-of-b')),
    ]);
    expect(a).toBe('[REDACTED] secret-of-b');
    expect(b).toBe('secret-of-a [REDACTED]');
  });

  it(`ignores values under ${MIN_SECRET_LENGTH} characters, and Japanese text around a value stays whole`, () => {
    const message = 'トークンの更新に失敗しました: APIエラー: 400 (受信: abcd ト ーク)。再実行してください。';
    const out = withSecrets(['ト', 'ーク', 'abc', 'abcd', '   ', '\uD800abc'], () => scrub(message));
    expect(out).toBe(
      'トークンの更新に失敗しました: APIエラー: 400 (受信: [REDACTED] ト ーク)。再実行してください。',
    );
    expect(out.isWellFormed()).toBe(true);
  });

  it('a secret inside the word REDACTED does not mangle a text already redacted', () => {
    expect(withSecrets(['DACT'], () => scrub('[REDACTED] DACT'))).toBe('[REDACTED] [REDACTED]');
  });

  it('a secret with characters special to patterns and replacements', () => {
    const odd = 'a$&b.*c(d)|e\\f$1';
    expect(withSecrets([odd], () => scrub(`x${odd}y`))).toBe('x[REDACTED]y');
  });

  it('a JSON body cut inside a secret value is scrubbed to its end', () => {
    expect(redact('{"token_type":"bearer","refresh_token":"abcdEFGH12')).toBe(
      '{"token_type":"bearer","refresh_token":"[REDACTED]"',
    );
  });

  it('bounds the length without cutting a character in half', () => {
    const text = `${'あ'.repeat(499)}😀${'い'.repeat(100)}`;
    expect(redact(text).isWellFormed()).toBe(true);
  });

  it('shows no part of a token shorter than 32 characters', () => {
    expect(maskToken('F0sofkMF-V8-paDAs6Bp')).toBe('************ (20 文字)');
    expect(maskToken('abc')).toBe('*** (3 文字)');
  });
});
