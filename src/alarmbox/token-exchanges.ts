// Token requests whose answer is not yet saved or known lost. From the moment the refresh lease is taken until
// it is released, stopping the process could throw away a pair AlarmBox has already rotated (the old refresh
// token revoked, the new one never stored). Shutdown code (the CLI's signal handling, `Alarmbox.close()`)
// closes the gate so that no new request starts, and waits for the open ones.
import { AsyncLocalStorage } from 'node:async_hooks';
import { waitAtMost } from '../wait-at-most.ts';

/** The exchange whose steps run now: its own saves go on after `close()` (they are what close waits for). */
const within = new AsyncLocalStorage<TokenExchanges>();

export class TokenExchanges {
  #active = 0;
  #closed = false;
  #idle: PromiseWithResolvers<void> | undefined;

  /** Exchanges under way. */
  get active(): number {
    return this.#active;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** No new exchange starts from now on; the open ones finish. */
  close(): void {
    this.#closed = true;
  }

  /** Starts one exchange; returns its `end`, or undefined when the gate is closed. */
  begin(): (() => void) | undefined {
    if (this.#closed) return undefined;
    this.#active++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#active--;
      if (this.#active === 0) {
        this.#idle?.resolve();
        this.#idle = undefined;
      }
    };
  }

  /**
   * Runs `exchange` as one exchange of this gate; `refused()` is thrown, and nothing run, once it is closed.
   * While it runs, {@link inside} is true for its steps.
   */
  async run<T>(exchange: () => Promise<T>, refused: () => Error): Promise<T> {
    const end = this.begin();
    if (end === undefined) throw refused();
    try {
      return await within.run(this, exchange);
    } finally {
      end();
    }
  }

  /** Whether the caller is a step of an exchange started with {@link run}. */
  inside(): boolean {
    return within.getStore() === this;
  }

  /** Resolves when no exchange is under way. */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }

  /** {@link idle}, or after `boundMs` whichever comes first; true when idle. */
  async idleWithin(boundMs: number): Promise<boolean> {
    if (this.#active === 0) return true;
    return (await waitAtMost(this.idle(), boundMs)) !== undefined;
  }
}

/** Every token exchange of this process: the CLI closes it on SIGINT, SIGTERM or SIGHUP. */
export const processTokenExchanges = new TokenExchanges();
