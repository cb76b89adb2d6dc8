/** Waits between attempts: starts small, grows ×1.5 up to `maxMs`, each step jittered so waiters spread out. */
export class Backoff {
  readonly #maxMs: number;
  #nextMs: number;
  constructor(minMs: number, maxMs: number) {
    this.#maxMs = Math.max(minMs, maxMs);
    this.#nextMs = minMs;
  }

  /** The next delay: between half and all of the current step. */
  next(): number {
    const step = this.#nextMs;
    this.#nextMs = Math.min(this.#maxMs, Math.ceil(step * 1.5));
    return Math.max(1, Math.round(step * (0.5 + Math.random() * 0.5)));
  }
}
