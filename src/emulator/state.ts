// Everything one running emulator holds. Routes receive it explicitly (no module-level state), so two
// emulators in one process (e.g. one per rotation mode in a test) never share tokens.
import type { HttpBindings } from '@hono/node-server';
import { ApplicationRegistry } from './applications.ts';
import { CreditCheckBook } from './credit-checks.ts';
import { FaultController } from './faults.ts';
import type { ResolvedEmulatorOptions } from './options.ts';
import { StatsRecorder } from './stats.ts';
import { EmulatorStore } from './store.ts';

/** Hono environment: @hono/node-server passes the Node request and response as bindings. */
export interface EmulatorEnv {
  Bindings: HttpBindings;
}

export interface EmulatorState {
  readonly options: ResolvedEmulatorOptions;
  readonly applications: ApplicationRegistry;
  readonly clock: EmulatorClock;
  readonly store: EmulatorStore;
  readonly creditChecks: CreditCheckBook;
  readonly faults: FaultController;
  readonly stats: StatsRecorder;
  /** The request log sink (already silenced when `quiet`). */
  readonly log: (line: string) => void;
}

export function createEmulatorState(
  options: ResolvedEmulatorOptions,
  log: (line: string) => void,
): EmulatorState {
  return {
    options,
    applications: new ApplicationRegistry(options),
    clock: new EmulatorClock(),
    store: new EmulatorStore(),
    creditChecks: new CreditCheckBook(),
    faults: new FaultController(),
    stats: new StatsRecorder(),
    log: options.quiet ? () => {} : log,
  };
}

/** `POST /__emulator/reset`: drops grants, tokens, credit checks, faults, stats and the clock offset; keeps options. */
export function resetEmulatorState(state: EmulatorState): void {
  state.store.clear();
  state.creditChecks.clear();
  state.faults.clear();
  state.stats.clear();
  state.clock.setOffsetSeconds(0);
}

// The emulator's "now". Tests shift it (PUT /__emulator/clock) to reach code and token expiry without
// sleeping; every timestamp the emulator reads or writes (expiry, created_at, lastRefreshAt) goes through it.

/** ±100 years: enough for any expiry test, far from the limits of `Date`. */
export const MAX_CLOCK_OFFSET_SECONDS = 100 * 366 * 86400;

class EmulatorClock {
  #offsetMs = 0;

  nowMs(): number {
    return Date.now() + this.#offsetMs;
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
