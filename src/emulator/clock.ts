// The emulator's "now". Tests shift it (PUT /__emulator/clock) to reach code and token expiry without
// sleeping; every timestamp the emulator reads or writes (expiry, created_at, lastRefreshAt) goes through it.

/** ±100 years: enough for any expiry test, far from the limits of `Date`. */
export const MAX_CLOCK_OFFSET_SECONDS = 100 * 366 * 86400;

export class EmulatorClock {
  #offsetMs = 0;

  nowMs(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Epoch seconds, truncated like Ruby's `Time#to_i` (Doorkeeper's `created_at`). */
  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  get offsetSeconds(): number {
    return this.#offsetMs / 1000;
  }

  /** Absolute, not cumulative: `setOffsetSeconds(0)` returns to real time. */
  setOffsetSeconds(seconds: number): void {
    if (!Number.isFinite(seconds)) {
      throw new RangeError('offsetSeconds は有限の数値で指定してください (例: 601)。');
    }
    this.#offsetMs = Math.round(seconds * 1000);
  }
}
