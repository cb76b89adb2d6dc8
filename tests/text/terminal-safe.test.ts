// The one rule for outside text (src/text): controls become visible escapes, lone surrogates U+FFFD, and a cut
// never splits a surrogate pair.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clipText } from '../../src/text/clip.ts';
import { hasUnsafeCharacters, terminalSafe } from '../../src/text/terminal-safe.ts';
import { ANY_CONTROL } from '../support/controls.ts';

describe('terminalSafe', () => {
  it('writes C0, DEL, C1, separators and bidi controls as visible escapes', () => {
    expect(terminalSafe('a\u0000b\u0007c\u001b[2Jd\r\ne\u007f\u0085\u009b\u2028\u202e')).toBe(
      'a\\x00b\\x07c\\x1b[2Jd\\x0d\\x0ae\\x7f\\x85\\x9b\\u2028\\u202e',
    );
  });

  it('keeps printable text, Japanese and astral characters as they are', () => {
    const text = 'トークンを保存しました 🔑 credit_checks:read ~!';
    expect(terminalSafe(text)).toBe(text);
    expect(hasUnsafeCharacters(text)).toBe(false);
  });

  it('replaces lone surrogates, keeps pairs', () => {
    expect(terminalSafe('a\ud800b\udc00c\ud83d\udd11')).toBe('a\uFFFDb\uFFFDc\ud83d\udd11');
  });

  it('leaves nothing unsafe in any string, and is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const safe = terminalSafe(text);
        expect(safe).not.toMatch(ANY_CONTROL);
        expect(hasUnsafeCharacters(safe)).toBe(false);
        expect(terminalSafe(safe)).toBe(safe);
      }),
    );
  });
});

describe('clipText', () => {
  it('keeps a text that fits, cuts a longer one to the size with an ellipsis', () => {
    expect(clipText('abc', 3)).toBe('abc');
    expect(clipText('abcdef', 4)).toBe('abc…');
  });

  it('never splits a surrogate pair and never exceeds the size', () => {
    expect(clipText('ab🔑cd', 4)).toBe('ab…');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 1, max: 40 }), (text, max) => {
        const cut = clipText(terminalSafe(text), max);
        expect(cut.length).toBeLessThanOrEqual(max);
        expect(cut).not.toMatch(/[\ud800-\udfff]/u);
      }),
    );
  });
});
