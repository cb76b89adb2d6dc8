import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecryptionError, KeyRingFormatError } from '../../src/crypto/errors.ts';
import {
  EnvelopeTooLongError,
  generateKeySpec,
  openField,
  parseKeyRing,
  sealField,
} from '../../src/crypto/index.ts';

const at = { table: 'hansha_alarmbox_tokens', column: 'access_token', rowId: 1 } as const;
const token = 'CU8wbymHIiKUYy6tsY8dbCbzsZNdEucx70d2ZpBLz3Q'; // 43 chars, the guide's example shape

function failureOf(fn: () => unknown): DecryptionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DecryptionError) return error;
    throw error;
  }
  throw new Error('expected a DecryptionError');
}

describe('AES-256-GCM envelope', () => {
  const ring = parseKeyRing(generateKeySpec('k1'), 'TEST');

  it('round-trips and carries version and key id, never the plaintext', () => {
    const envelope = sealField(ring, token, at);
    expect(envelope).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(envelope).not.toContain(token);
    expect(openField(ring, envelope, at)).toBe(token);
    // a fresh IV each time
    expect(sealField(ring, token, at)).not.toBe(envelope);
  });

  it('a 43-char token fits the guide varchar(512) with room to spare', () => {
    expect(sealField(ring, token, at).length).toBeLessThan(200);
  });

  it('refuses to produce an envelope longer than the column', () => {
    expect(() => sealField(ring, 'x'.repeat(400), at)).toThrow(EnvelopeTooLongError);
  });

  it('a value copied into another column or row fails to decrypt (AAD binding)', () => {
    const envelope = sealField(ring, token, at);
    expect(failureOf(() => openField(ring, envelope, { ...at, column: 'refresh_token' })).failure).toBe(
      'authentication_failed',
    );
    expect(failureOf(() => openField(ring, envelope, { ...at, rowId: 2 })).failure).toBe(
      'authentication_failed',
    );
  });

  it('a tampered value is an error, never garbage', () => {
    const envelope = sealField(ring, token, at);
    const parts = envelope.split('.');
    const body = Buffer.from(parts[3] ?? '', 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    const tampered = [...parts.slice(0, 3), body.toString('base64url')].join('.');
    const error = failureOf(() => openField(ring, tampered, at));
    expect(error.failure).toBe('authentication_failed');
    expect(error.reason).toBe('stored_data_invalid');
    expect(error.message).toContain('save-token');
  });

  it('a wrong key under the same id fails authentication', () => {
    const envelope = sealField(ring, token, at);
    const other = parseKeyRing(generateKeySpec('k1'), 'TEST');
    expect(failureOf(() => openField(other, envelope, at)).failure).toBe('authentication_failed');
  });

  it('an unknown key id names the missing key', () => {
    const envelope = sealField(ring, token, at);
    const noK1 = parseKeyRing(generateKeySpec('k2'), 'TEST');
    const unknown = failureOf(() => openField(noK1, envelope, at));
    expect(unknown.failure).toBe('unknown_key');
    expect(unknown.message).toContain('"k1"');
    expect(unknown.message).toContain('ALARMBOX_ENCRYPTION_KEYS');
  });

  it('a key ring decrypts with every key and encrypts with the first', () => {
    const k1 = generateKeySpec('k1');
    const k2 = generateKeySpec('k2');
    const old = parseKeyRing(k1, 'TEST');
    const rotated = parseKeyRing(`${k2},${k1}`, 'TEST');
    const sealedOld = sealField(old, token, at);
    expect(openField(rotated, sealedOld, at)).toBe(token);
    expect(sealField(rotated, token, at).startsWith('v1.k2.')).toBe(true);
  });

  it('malformed envelopes and unknown versions are errors', () => {
    for (const bad of ['', 'plain-text-token', 'v1.k1.abc', 'v1.k1.!!!.???', 'v1.k1.AAAA.AAAA']) {
      expect(failureOf(() => openField(ring, bad, at)).failure).toBe('malformed');
    }
    const v2 = sealField(ring, token, at).replace(/^v1\./, 'v2.');
    expect(failureOf(() => openField(ring, v2, at)).failure).toBe('unsupported_version');
  });

  it('random envelopes never decrypt and never throw anything but DecryptionError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expect(() => openField(ring, s, at)).toThrow(DecryptionError);
      }),
      { numRuns: 300 },
    );
  });
});

describe('key ring parsing', () => {
  const key = Buffer.alloc(32, 7).toString('base64');

  it('accepts id:base64 lists, standard and url-safe', () => {
    const ring = parseKeyRing(
      ` a:${key} , b:${Buffer.alloc(32, 9).toString('base64url')} `,
      'ALARMBOX_ENCRYPTION_KEYS',
    );
    expect(ring.ids).toEqual(['a', 'b']);
    expect(ring.primary.id).toBe('a');
  });

  it.each([
    ['', '空です'],
    [key, 'キーIDがありません'],
    [`k 1:${key}`, 'キーID'],
    [`k1:${key},k1:${key}`, '重複'],
    ['k1:not base64!!', 'base64 ではありません'],
    [`k1:${Buffer.alloc(16).toString('base64')}`, '16 バイト'],
  ])('rejects %j with a Japanese message naming the variable', (spec, fragment) => {
    let error: unknown;
    try {
      parseKeyRing(spec, 'ALARMBOX_ENCRYPTION_KEYS');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeyRingFormatError);
    const message = (error as Error).message;
    expect(message).toContain('ALARMBOX_ENCRYPTION_KEYS');
    expect(message).toContain(fragment);
    expect(message).toContain('例:');
    expect(message).not.toContain(key);
  });
});
