// Random and malformed settings and arguments: a typed error with a reason or a valid value, never a crash,
// and never the secret that was given.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateCode } from '../../src/apps/cli/commands/save-token.ts';
import { loadConfig } from '../../src/config/index.ts';
import { AlarmboxError } from '../../src/errors.ts';

const SECRET = 'Sx9-secret-value-that-must-never-show_0123456789';

describe('hostile configuration and arguments', () => {
  it('random environments: valid config or a reasoned configuration error, secret never echoed', () => {
    const names = [
      'ALARMBOX_ENV',
      'DATABASE_URL',
      'ALARMBOX_BASE_URL',
      'ALARMBOX_REDIRECT_URI',
      'ALARMBOX_SCOPE',
      'ALARMBOX_HTTP_TIMEOUT_MS',
      'ALARMBOX_FALLBACK_EXPIRES_IN',
      'ALARMBOX_LOCK_WAIT_MS',
      'ALARMBOX_ENCRYPTION_KEYS',
      'ALARMBOX_INFO',
    ] as const;
    const value = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.constant(SECRET),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), value), (env) => {
        const full = { ...env, ALARMBOX_CLIENT_ID: 'id', ALARMBOX_CLIENT_SECRET: SECRET };
        try {
          const config = loadConfig({ dataDir: '/nonexistent/never-created' }, full);
          config.credentials();
        } catch (error) {
          expect(error, String(error)).toBeInstanceOf(AlarmboxError);
          expect((error as { reason: string }).reason).toBe('configuration');
          expect((error as Error).message).not.toContain(SECRET);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('random --code values: accepted unchanged or refused with a usage error that does not echo them', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 })),
        (code) => {
          try {
            expect(validateCode(code)).toBe(code);
          } catch (error) {
            expect(error).toMatchObject({ reason: 'usage' });
            if (code.trim().length >= 6) expect((error as Error).message).not.toContain(code.trim());
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
