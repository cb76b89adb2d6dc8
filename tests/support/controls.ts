// What a terminal, a log line or a database column must never receive from outside text: C0 controls and DEL,
// C1 controls, the line and paragraph separators, bidi controls, lone surrogates. Written independently of
// src/text/terminal-safe.ts, so that the tests do not take the code's word for it.

/** Matches any such character (for one stored or logged value). */
export const ANY_CONTROL: RegExp =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the very characters under test
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udfff]/u;

/** The same, LF excepted (for a whole output, whose own lines end in LF). */
export const CONTROL_EXCEPT_LF: RegExp =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the very characters under test
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udfff]/u;
