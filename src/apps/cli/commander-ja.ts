// commander explains a wrong command line in English; every other message of the CLI is Japanese. Its messages
// are stable strings (commander's lib/command.js), so each known one is rewritten; anything unknown passes as is.
const RULES: readonly (readonly [RegExp, (...groups: string[]) => string])[] = [
  [/^error: unknown command '(.*)'$/, (name) => `エラー: ${name} というコマンドはありません。`],
  [/^error: unknown option '(.*)'$/, (option) => `エラー: ${option} というオプションはありません。`],
  [
    /^error: required option '(.*)' not specified$/,
    (option) => `エラー: 必須のオプション ${option} が指定されていません。`,
  ],
  [/^error: missing required argument '(.*)'$/, (name) => `エラー: 引数 ${name} が必要です。`],
  [
    /^error: option '(.*)' argument missing$/,
    (option) => `エラー: オプション ${option} に値を指定してください。`,
  ],
  [
    /^error: option '(.*)' argument '(.*)' is invalid\.(.*)$/,
    // The value itself is left out: it may be a secret (`--code`).
    (option, _value, reason) => `エラー: オプション ${option} の値が正しくありません。${reason.trim()}`,
  ],
  [
    /^error: too many arguments(?: for '(.*)')?\. Expected (\d+) arguments? but got (\d+)(?::.*)?\.$/,
    (command, expected, got) =>
      `エラー: ${command === undefined ? '' : `${command} の`}引数が多すぎます (${expected} 個まで、指定は ${got} 個)。`,
  ],
  [/^error: (.*)$/, (rest) => `エラー: ${rest}`],
  [/^\(Did you mean (.*)\?\)$/, (candidate) => `(もしかして: ${candidate})`],
];

/** Rewrites commander's error output (one or more lines) in Japanese. */
export function translateCommanderError(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      for (const [pattern, rewrite] of RULES) {
        const match = pattern.exec(line);
        if (match !== null) return rewrite(...match.slice(1).map((group) => group ?? ''));
      }
      return line;
    })
    .join('\n');
}
