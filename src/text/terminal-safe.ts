// Text from outside this package (AlarmBox's answers, a driver's message, the environment) may hold control
// characters. Printed raw, ESC sequences rewrite the terminal (colours, cursor moves, window titles), CR and LF
// forge whole lines (a second line reading 「トークンを保存しました」), BEL rings, NUL is refused by PostgreSQL,
// and bidi overrides (Unicode TR #9, "Trojan Source") show text in another order than it is stored.
// Every such character becomes a visible escape instead, so the text stays one line and says what arrived.

/**
 * C0 controls and DEL, C1 controls (U+0080–U+009F: NEL, CSI…), the line and paragraph separators
 * (U+2028/U+2029: a new line to many viewers), the bidi marks, embeddings, overrides and isolates, and lone
 * UTF-16 surrogates (no UTF-8 encoding exists for them).
 */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const UNSAFE_TEST = new RegExp(UNSAFE.source);

/** True when `text` holds a character that {@link terminalSafe} would replace. */
export function hasUnsafeCharacters(text: string): boolean {
  return UNSAFE_TEST.test(text);
}

/**
 * `text` with every control, separator and bidi character written as a visible escape (`\x1b`, `\x0a`,
 * `\u202e`) and every lone surrogate as U+FFFD: one line, safe for a terminal, a log line or a database
 * column. Printable text (Japanese included) is kept as it is.
 */
export function terminalSafe(text: string): string {
  if (!UNSAFE_TEST.test(text)) return text;
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdfff) return '\uFFFD';
    const hex = code.toString(16);
    return code <= 0xff ? `\\x${hex.padStart(2, '0')}` : `\\u${hex.padStart(4, '0')}`;
  });
}
