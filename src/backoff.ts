// The one backoff of the package: how long to wait before attempt n of something that may succeed later
// (a lease another process holds, a GET that met a 503, a job run that failed for a temporary reason).

export interface Backoff {
  /** The ceiling of the first wait. */
  readonly firstMs: number;
  /** No ceiling grows past this. */
  readonly maxMs: number;
  /** How much each ceiling grows over the previous one (default 2). */
  readonly factor?: number | undefined;
  /** [0, 1); replaceable so that tests can see the delays without depending on chance. */
  readonly random?: (() => number) | undefined;
}

/**
 * The wait before retry `n` (1-based): a ceiling growing from `firstMs` by `factor` up to `maxMs`, and a
 * delay between half the ceiling and all of it. The random half spreads processes that failed together
 * (an expiry every instance met at once, a 503 to every client), and the fixed half keeps a retry from
 * coming back at once.
 */
export function backoffDelayMs(n: number, backoff: Backoff): number {
  const { firstMs, maxMs, factor = 2, random = Math.random } = backoff;
  const ceiling = Math.min(maxMs, firstMs * factor ** Math.max(0, n - 1));
  return Math.max(0, Math.floor(ceiling * (0.5 + 0.5 * random())));
}
