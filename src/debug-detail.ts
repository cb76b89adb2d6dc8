// What an unexpected error shows, for the CLI (main.ts), the job runner and the library's own messages alike.
// Without ALARMBOX_DEBUG=1 only the error's class is named and the variable is suggested; with it, the CLI and
// the job runner write the stack and the cause chain to stderr, scrubbed of secrets, and the suggestion (to set
// what is already set) is left out.
import { causeChain } from './error-code.ts';
import { scrub } from './text/redact.ts';

/** Set to `1` to see the stack and causes of an unexpected error (docs/troubleshooting.md「予期しないエラーが発生しました」). */
export const DEBUG_VARIABLE = 'ALARMBOX_DEBUG';

/** How many causes deep the chain is followed (a cycle or a very long chain ends there). */
const MAX_DEPTH = 8;
/** Each stack or message, at most: enough for every frame of a driver error, not a whole response body. */
const MAX_CHARS = 8_000;

export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[DEBUG_VARIABLE] === '1';
}

/**
 * The sentence that ends an unexpected error's message: how to see more, or, when ALARMBOX_DEBUG=1 is set
 * already, where the detail goes (the CLI and the job runner write it for every unexpected error).
 */
export function debugHint(env: NodeJS.ProcessEnv = process.env): string {
  return debugEnabled(env)
    ? `スタックトレースと原因は標準エラー出力に表示します (${DEBUG_VARIABLE}=1)。`
    : `${DEBUG_VARIABLE}=1 を付けて再実行すると詳細を表示します。`;
}

/**
 * The stack of `error` and of each `cause` below it, scrubbed of anything token-shaped (redact.ts), one
 * block per level. For stderr only: never stored or logged as JSON.
 */
export function debugDetail(error: unknown): string {
  // One more than shown: whether the chain goes on past MAX_DEPTH.
  const chain = causeChain(error, MAX_DEPTH + 1);
  const blocks = chain.slice(0, MAX_DEPTH).map((link, depth) => {
    const text = link instanceof Error ? (link.stack ?? `${link.name}: ${link.message}`) : describe(link);
    const bounded = text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}…(${text.length} 文字)` : text;
    return depth === 0 ? scrub(bounded) : `原因: ${scrub(bounded)}`;
  });
  if (chain.length > MAX_DEPTH) blocks.push('原因: … (以下省略)');
  return blocks.join('\n');
}

/** Errors whose detail this process has written: the runner writes it, then the CLI reports the same failure. */
const written = new WeakSet<object>();

/**
 * With ALARMBOX_DEBUG=1, writes {@link debugDetail} of `error` to stderr, once: not again for an error that
 * wraps (has as a cause) one already written. Otherwise nothing.
 */
export function writeDebugDetail(error: unknown, env: NodeJS.ProcessEnv = process.env): void {
  if (!debugEnabled(env)) return;
  const chain = causeChain(error, MAX_DEPTH).filter(
    (link): link is object => typeof link === 'object' && link !== null,
  );
  if (chain.some((link) => written.has(link))) return;
  for (const link of chain) written.add(link);
  process.stderr.write(`${debugDetail(error)}\n`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return `${typeof value}: ${JSON.stringify(value) ?? String(value)}`;
  } catch {
    return typeof value;
  }
}
