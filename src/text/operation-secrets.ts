// The secrets of the operation under way: the client secret, the authorization code being exchanged, the
// refresh token sent, the tokens received, the access token of an API call. Patterns (redact.ts) catch what
// looks like a token; a short code (`ShortCode.With+Chars~1`), a client secret quoted in an error page or a
// refresh token of 20 characters does not look like one. So every operation that handles a secret runs inside
// `withSecrets()`, and every text this package keeps or prints passes through `redact()`/`scrub()`, which
// replace these values wherever they appear — in a message, a response body, a cause, a history row — without
// each place having to remember which secrets are about.
//
// The set lives in an AsyncLocalStorage: it follows the operation through every `await`, into the callbacks it
// schedules (the history write), and ends with it. A nested operation (the refresh an API call needs, the token
// request of a refresh) joins the one under way, so the tokens a refresh receives are still known when the API
// call that caused it reports its own failure.
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Values shorter than this are not replaced by value: a secret of one to three characters would turn every
 * occurrence of those letters in a message into `[REDACTED]`. OAuth values are far longer (Doorkeeper: 43
 * characters for codes and tokens, 43 or 64 for secrets); the patterns of redact.ts still apply to them.
 */
export const MIN_SECRET_LENGTH = 4;

/** What a secret is replaced with. */
export const REDACTED = '[REDACTED]';
/** A function, so that `$` in the replacement is never a pattern. */
const REPLACE = (): string => REDACTED;

/** One operation's known secrets, and the forms they take in what a server may echo. */
export class OperationSecrets {
  readonly #values = new Set<string>();
  /** Every form of every value, longest first (a value containing another is replaced whole); cached. */
  #pattern: RegExp | undefined;

  /** Remembers values; `undefined`, `null`, values that are too short or not well-formed are skipped. */
  add(...values: readonly (string | null | undefined)[]): void {
    for (const value of values) {
      if (typeof value !== 'string' || !isRedactable(value) || this.#values.has(value)) continue;
      this.#values.add(value);
      this.#pattern = undefined;
    }
  }

  /** How many values are known. */
  get size(): number {
    return this.#values.size;
  }

  /**
   * `text` with every known value, raw or encoded, replaced by {@link REDACTED}, in one pass: a replacement is
   * never searched again, nor one already in `text` (a message quoting a redacted message), so a secret that
   * is part of the word `REDACTED` cannot mangle it.
   */
  replaceIn(text: string): string {
    if (this.#values.size === 0) return text;
    this.#pattern ??= new RegExp([REDACTED, ...formsOf(this.#values)].map(escapeRegExp).join('|'), 'g');
    return text.replace(this.#pattern, REPLACE);
  }
}

const current = new AsyncLocalStorage<OperationSecrets>();

/**
 * Runs `run` as an operation whose secrets include `values`: joins the operation under way if there is one
 * (adding `values` to it), otherwise starts one that ends when `run` settles.
 */
export function withSecrets<T>(values: readonly (string | null | undefined)[], run: () => T): T {
  const open = current.getStore();
  if (open !== undefined) {
    open.add(...values);
    return run();
  }
  const secrets = new OperationSecrets();
  secrets.add(...values);
  return current.run(secrets, run);
}

/**
 * Adds values learnt during the operation (the tokens of an answer) to it. Outside any operation it does
 * nothing, so callers that learn secrets run inside {@link withSecrets} themselves.
 */
export function rememberSecrets(...values: readonly (string | null | undefined)[]): void {
  current.getStore()?.add(...values);
}

/** The operation under way, if any. */
export function currentSecrets(): OperationSecrets | undefined {
  return current.getStore();
}

/** Long enough, and whole characters only: replacing half of a surrogate pair would break the text around it. */
function isRedactable(value: string): boolean {
  return (
    value.length >= MIN_SECRET_LENGTH && value.trim().length >= MIN_SECRET_LENGTH && value.isWellFormed()
  );
}

/**
 * A value as a server may echo it: raw, inside a JSON string, percent-encoded as a URL component or as a form
 * (the token requests send `URLSearchParams`, which writes `~` as `%7E` and a space as `+`), or HTML-escaped.
 */
function formsOf(values: Iterable<string>): string[] {
  const forms = new Set<string>();
  for (const value of values) {
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
    forms.add(encodeURIComponent(value));
    forms.add(new URLSearchParams({ v: value }).toString().slice(2));
    forms.add(escapeHtml(value));
  }
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
