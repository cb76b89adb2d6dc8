// Random and malformed settings and arguments: a typed error with a reason or a valid value, never a crash,
// and never the secret that was given.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { validateCode } from '../../src/apps/cli/commands/save-token.ts';
import { CONFIG_FILE_MAX_BYTES } from '../../src/config/bounded-file.ts';
import { loadConfig } from '../../src/config/index.ts';
import { expectReasonOf } from '../support/rejections.ts';

const SECRET = 'Sx9-secret-value-that-must-never-show_0123456789';

const hostileDir = mkdtempSync(join(tmpdir(), 'alarmbox-hostile-'));
const fifo = join(hostileDir, 'fifo');
execFileSync('mkfifo', [fifo]);
const huge = join(hostileDir, 'huge.json');
writeFileSync(huge, `{"client_id":"${'x'.repeat(CONFIG_FILE_MAX_BYTES)}"}`);
const HOSTILE_PATHS = ['/dev/zero', '/dev/null', '/dev/urandom', '/proc/self/mem', hostileDir, fifo, huge];
afterAll(() => rmSync(hostileDir, { recursive: true, force: true }));

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
      // Paths that are not a small regular file (docs/guarantees.md「設定ファイルの読み込みは有限」).
      fc.constantFrom(...HOSTILE_PATHS),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), value), (env) => {
        const full = { ...env, ALARMBOX_CLIENT_ID: 'id', ALARMBOX_CLIENT_SECRET: SECRET };
        try {
          const config = loadConfig({ dataDir: '/nonexistent/never-created' }, full);
          config.credentials();
        } catch (error) {
          expect(expectReasonOf(error, 'configuration').message).not.toContain(SECRET);
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
            const refused = expectReasonOf(error, 'usage');
            if (code.trim().length >= 6) expect(refused.message).not.toContain(code.trim());
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
