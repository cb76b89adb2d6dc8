/** One benchmark case: `value` is what we measure, `baseline` the floor measured in the same run. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number;
  /** value ÷ baseline: compare runs by this, never by the raw value of another machine. */
  readonly ratio: number;
  /** The ratio this case must stay under, if the issue that asked for it set one. */
  readonly limit?: number;
  readonly note?: string;
  /** What the case found wrong besides the ratio (a count that must be exact): each fails the run. */
  readonly problems?: readonly string[];
}

export interface BenchCase {
  readonly name: string;
  run(): Promise<BenchResult | readonly BenchResult[]>;
}

/** Median of the samples, after one warm-up pass the caller is expected to have made. */
export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Times `fn` `iterations` times and returns each duration in milliseconds. */
export async function sample(iterations: number, fn: () => Promise<unknown>): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn();
    durations.push(performance.now() - start);
  }
  return durations;
}
