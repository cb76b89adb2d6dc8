// The `state` values of loopback authorizations this console started (RFC 6749 §10.12): a callback is
// accepted only with one of them, once, within the lifetime of an authorization code.
import { randomBytes } from 'node:crypto';

export interface PendingAuthorization {
  readonly redirectUri: string;
  readonly startedAt: number;
}

export class PendingAuthorizations {
  /** Doorkeeper's codes live 10 minutes; a state older than that cannot bring a usable code. */
  static readonly TTL_MS = 10 * 60_000;
  static readonly MAX = 20;
  readonly #pending = new Map<string, PendingAuthorization>();

  /** Remembers a new authorization and returns its state (256 random bits). */
  begin(redirectUri: string, now: number = Date.now()): string {
    const state = randomBytes(32).toString('base64url');
    this.#pending.set(state, { redirectUri, startedAt: now });
    for (const old of this.#pending.keys()) {
      if (this.#pending.size <= PendingAuthorizations.MAX) break;
      this.#pending.delete(old);
    }
    return state;
  }

  /** The authorization `state` belongs to, consumed: a replayed callback finds nothing. */
  finish(state: string | undefined, now: number = Date.now()): PendingAuthorization | undefined {
    if (state === undefined || state === '') return undefined;
    const pending = this.#pending.get(state);
    this.#pending.delete(state);
    if (pending === undefined || now - pending.startedAt > PendingAuthorizations.TTL_MS) return undefined;
    return pending;
  }
}
