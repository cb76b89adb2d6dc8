// The job logger writes one line per event whatever the message and fields hold: control characters, line
// separators and bidi overrides from outside text become visible escapes, in JSON and in text.
import { describe, expect, it } from 'vitest';
import { createJobLogger, parseLogFormat } from '../../src/apps/jobs/logger.ts';
import { ANY_CONTROL } from '../support/controls.ts';

const HOSTILE = 'a\r\nトークンを保存しました\u001b[2K\u0007\u0000\u009b\u0085\u2028\u202e\ud800';

describe('job logger', () => {
  for (const format of ['json', 'text'] as const) {
    it(`${format}: one line, no control character in the message, the fields or the keys`, () => {
      const lines: string[] = [];
      const logger = createJobLogger(
        format,
        (line) => lines.push(line),
        () => new Date(0),
      );
      logger.log('ERROR', HOSTILE, { outcome: HOSTILE, [`k${HOSTILE}`]: 1, list: [HOSTILE] });
      expect(lines).toHaveLength(1);
      const line = lines[0] ?? '';
      expect(line).not.toMatch(ANY_CONTROL);
      if (format === 'json') {
        const entry = JSON.parse(line) as Record<string, unknown>;
        for (const [key, value] of Object.entries(entry)) {
          expect(key).not.toMatch(ANY_CONTROL);
          expect(JSON.stringify(value)).not.toMatch(ANY_CONTROL);
          if (typeof value === 'string') expect(value).not.toMatch(ANY_CONTROL);
        }
        expect(entry.message).toContain('\\x1b[2K');
      }
    });
  }

  it('parseLogFormat quotes a bad value without its control characters', () => {
    expect(() => parseLogFormat('j\u001b]0;x\u0007')).toThrow(/j\\x1b\]0;x\\x07/);
  });
});
