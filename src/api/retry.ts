// Bounded retries for idempotent reads. RFC 9110 §9.2.2: GET is idempotent, so repeating it after 429 or
// 5xx cannot change anything at AlarmBox. POST is not (a credit check is a purchase): never retried here,
// whatever went wrong, so none of this applies to it.
import { backoffDelayMs } from '../backoff.ts';
import { AlarmboxError } from '../errors.ts';

/** How often and after how long the API client retries a call that failed temporarily. */
export interface RetryPolicy {
  /** Requests in total, the first included. 1 disables retries. */
  readonly maxAttempts: number;
  /**
   * The backoff before retry n (1-based) is drawn from [c/2, c), c = min(maxDelayMs, baseDelayMs × 2^(n−1))
   * (src/backoff.ts).
   */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the call fails at once and reports it. */
  readonly retryAfterCapMs: number;
  /** [0, 1); replaceable so tests can see the backoff without depending on chance. */
  readonly random: () => number;
}

/** The retries the API client makes unless told otherwise. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  retryAfterCapMs: 10_000,
  random: Math.random,
};

/** RFC 6585 §4 (429 Too Many Requests) and the 5xx class (RFC 9110 §15.6): worth trying again later. */
function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * RFC 9110 §10.2.3 `Retry-After`: delay-seconds or an HTTP-date. Undefined when absent or unreadable; a
 * date in the past counts as 0.
 */
export function parseRetryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly why: 'not_retryable' | 'attempts_exhausted' | 'retry_after_too_long' };

/**
 * Whether a GET that got `status` after `attempt` requests should be sent again, and after how long. The
 * server's `Retry-After` wins over our backoff when it is longer, as long as it is within the cap.
 */
export function decideRetry(
  attempt: number,
  status: number,
  retryAfterMs: number | undefined,
  policy: RetryPolicy,
): RetryDecision {
  if (!isRetryableStatus(status)) return { retry: false, why: 'not_retryable' };
  if (attempt >= policy.maxAttempts) return { retry: false, why: 'attempts_exhausted' };
  if (retryAfterMs !== undefined && retryAfterMs > policy.retryAfterCapMs) {
    return { retry: false, why: 'retry_after_too_long' };
  }
  const backoff = { firstMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, random: policy.random };
  return { retry: true, delayMs: Math.max(retryAfterMs ?? 0, backoffDelayMs(attempt, backoff)) };
}

/** Fills a partial policy with the defaults and rejects values that would retry forever or never wait. */
export function resolveRetryPolicy(partial: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...partial };
  const bad = (what: string, example: string) =>
    new AlarmboxError(`retry.${what} が正しくありません (例: ${example})。`, { reason: 'configuration' });
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1 || policy.maxAttempts > 10) {
    throw bad('maxAttempts は 1〜10 の整数です', 'maxAttempts: 3');
  }
  for (const key of ['baseDelayMs', 'maxDelayMs', 'retryAfterCapMs'] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0)
      throw bad(`${key} は 0 以上の数です`, `${key}: 1000`);
  }
  return policy;
}
