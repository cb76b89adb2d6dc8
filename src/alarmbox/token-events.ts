// Token events an application can hook (`alarmbox.onTokenEvent`): refreshed, refresh failed, re-authorization
// required, recovered. Built from what TokenService already reports (refresh attempts, reads, new pairs), so
// they carry only token-free facts. Listeners run after the caller has its token and are never awaited by it:
// a slow, throwing or rejecting listener cannot delay or break a refresh (docs/design.md「トークンのイベント」).
import { FAILURE_REASONS, type FailureReason, isFailureReason } from '../failure-reason.ts';
import { reportSecondaryFailure } from '../secondary-failure.ts';
import { redact } from '../text/redact.ts';
import { waitAtMost } from '../wait-at-most.ts';
import { REAUTHORIZE_STEPS } from './errors.ts';
import type { RefreshAttempt, RefreshTrigger, StoredPairTimes } from './token-service.ts';

/** This process refreshed the pair: a new one is stored. */
export interface TokenRefreshedEvent {
  /** The kind of event: switch on it. */
  readonly type: 'refreshed';
  /** Who asked: an app's read (`online`), the scheduled job (`batch`) or a person/command (`manual`). */
  readonly trigger: RefreshTrigger;
  /** When the attempt ended. */
  readonly at: Date;
  /** How long the attempt took (lease, token request, save), in ms. */
  readonly durationMs: number;
  /** When the new access token expires. */
  readonly expiredAt: Date;
}

/** A refresh attempt of this process failed (every failed attempt, whatever its reason). */
export interface TokenRefreshFailedEvent {
  /** The kind of event: switch on it. */
  readonly type: 'refresh_failed';
  /** Who asked for the refresh. */
  readonly trigger: RefreshTrigger;
  /** When the attempt ended. */
  readonly at: Date;
  /** How long the attempt took, in ms. */
  readonly durationMs: number;
  /** Why; `FAILURE_REASONS[reason]` says whether retrying helps and what to do. */
  readonly reason: FailureReason;
  /** The Japanese message of the failure, secrets already replaced. */
  readonly message: string;
}

/**
 * The stored pair is dead and a person must authorize again. Fires once per episode: at the first such failure
 * after a success (or since the instance was created), not on every failed call until someone re-authorizes.
 */
export interface ReauthorizationRequiredEvent {
  /** The kind of event: switch on it. */
  readonly type: 'reauthorization_required';
  /** Who asked for the refresh that found the chain dead. */
  readonly trigger: RefreshTrigger;
  /** When that attempt ended. */
  readonly at: Date;
  /** The failure's Japanese message, secrets already replaced. */
  readonly message: string;
  /** What a person does to authorize again (the same sentence the CLI's messages quote), without a final 「。」. */
  readonly steps: string;
}

/**
 * Tokens work again after one or more failed refreshes of this process: the first refresh that stored a new pair
 * (`refresh`), the first new pair stored through this instance (`registration`: `exchangeCode()`,
 * `tokens.saveInitialToken()`), or the first read or refresh that found a pair another process or instance
 * stored since the last failure (`peer`: `alarmbox save-token`, the job, another app instance).
 */
export interface TokenRecoveredEvent {
  /** The kind of event: switch on it. */
  readonly type: 'recovered';
  /** What ended the failures (see above). */
  readonly via: 'refresh' | 'registration' | 'peer';
  /** When the recovery was noticed. */
  readonly at: Date;
  /** Failed refresh attempts of this process since the last success. */
  readonly failures: number;
  /** When the first of them ended. */
  readonly failingSince: Date;
  /** Whether this episode fired `reauthorization_required`. */
  readonly reauthorizationRequired: boolean;
  /** When the access token now stored expires, when known. */
  readonly expiredAt: Date | null;
}

/** What {@link Alarmbox.onTokenEvent} listeners receive: no token, code or secret, ever. */
export type TokenEvent =
  | TokenRefreshedEvent
  | TokenRefreshFailedEvent
  | ReauthorizationRequiredEvent
  | TokenRecoveredEvent;

/**
 * A token event listener. It runs after the caller got its result; its return value (a promise) is not awaited
 * by any caller. A throw or a rejection becomes an `AlarmboxSecondaryFailure` process warning.
 */
export type TokenEventListener = (event: TokenEvent) => void | Promise<void>;

/** Options of {@link Alarmbox.onTokenEvent}. */
export interface TokenEventOptions {
  /** Removes the listener when aborted (an already aborted signal adds nothing). */
  readonly signal?: AbortSignal | undefined;
}

/** The failures since the last success, in this process. */
interface Episode {
  failures: number;
  readonly since: Date;
  /** When the newest failed attempt began: a pair saved after it is a new one. */
  lastFailureStartedAt: Date;
  reauthorizationNotified: boolean;
}

/** One instance's token events: turns TokenService's reports into events and hands them to the listeners. */
export class TokenEvents {
  readonly #listeners = new Set<TokenEventListener>();
  /** Deliveries not yet finished (scheduled, or a listener's promise pending): `idle` waits for them. */
  readonly #pending = new Set<Promise<void>>();
  #episode: Episode | undefined;

  /** Adds `listener`; returns the function that removes it. */
  subscribe(listener: TokenEventListener, options: TokenEventOptions = {}): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError('onTokenEvent needs a function');
    }
    const { signal } = options;
    if (signal?.aborted === true) return () => undefined;
    // One entry per subscription, so that the same function added twice is removed once per unsubscribe.
    const entry: TokenEventListener = (event) => listener(event);
    const remove = (): void => {
      this.#listeners.delete(entry);
      signal?.removeEventListener('abort', remove);
    };
    this.#listeners.add(entry);
    signal?.addEventListener('abort', remove, { once: true });
    return remove;
  }

  /** For TokenService's `onAttempt`: one refresh attempt ended. */
  readonly attempt = (attempt: RefreshAttempt): void => {
    const at = new Date(attempt.startedAt.getTime() + attempt.durationMs);
    const { trigger, durationMs, outcome } = attempt;
    if (outcome === 'ok') {
      const expiredAt = attempt.expiredAt ?? at;
      this.#emit({ type: 'refreshed', trigger, at, durationMs, expiredAt });
      this.#recover('refresh', at, expiredAt);
    } else if (outcome === 'skipped') {
      this.#seen(attempt.issuedAt ?? null, attempt.expiredAt ?? null, at);
    } else {
      this.#failed(attempt, outcome, at);
    }
  };

  /** For TokenService's `onValidRead`: row 1 held a valid token (no refresh was needed). */
  readonly read = (times: StoredPairTimes): void => {
    if (this.#episode !== undefined) this.#seen(times.issuedAt, times.expiredAt, new Date());
  };

  /** For TokenService's `onRegistered`: a new pair (a code exchange) was stored through this instance. */
  readonly registered = (times: StoredPairTimes): void => {
    this.#recover('registration', new Date(), times.expiredAt);
  };

  /** Waits, at most `boundMs`, for the deliveries under way; false when some were still running. */
  async idle(boundMs: number): Promise<boolean> {
    const drained = (async () => {
      while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    })();
    return (await waitAtMost(drained, boundMs)) !== undefined;
  }

  #failed(attempt: RefreshAttempt, reason: FailureReason, at: Date): void {
    // A reason taken from a foreign error may be any text at run time: only a known one is looked up.
    const info = isFailureReason(reason) ? FAILURE_REASONS[reason] : undefined;
    const message = redact(attempt.message ?? info?.label ?? reason);
    const episode: Episode = this.#episode ?? {
      failures: 0,
      since: at,
      lastFailureStartedAt: attempt.startedAt,
      reauthorizationNotified: false,
    };
    episode.failures++;
    episode.lastFailureStartedAt = attempt.startedAt;
    this.#episode = episode;
    const { trigger, durationMs } = attempt;
    this.#emit({ type: 'refresh_failed', trigger, at, durationMs, reason, message });
    if (info?.reauthorizationRequired === true && !episode.reauthorizationNotified) {
      episode.reauthorizationNotified = true;
      this.#emit({ type: 'reauthorization_required', trigger, at, message, steps: REAUTHORIZE_STEPS });
    }
  }

  /**
   * A pair was found stored: a recovery when it was saved after the newest failure began. Strictly after: the
   * pair that failed may have been saved in the same millisecond as the attempt began (a registration just
   * before a forced refresh), and a peer's save in that millisecond is still found by the next refresh.
   */
  #seen(issuedAt: Date | null, expiredAt: Date | null, at: Date): void {
    const episode = this.#episode;
    if (episode === undefined || issuedAt === null) return;
    if (issuedAt.getTime() > episode.lastFailureStartedAt.getTime()) this.#recover('peer', at, expiredAt);
  }

  #recover(via: TokenRecoveredEvent['via'], at: Date, expiredAt: Date | null): void {
    const episode = this.#episode;
    if (episode === undefined) return;
    this.#episode = undefined;
    this.#emit({
      type: 'recovered',
      via,
      at,
      failures: episode.failures,
      failingSince: episode.since,
      reauthorizationRequired: episode.reauthorizationNotified,
      expiredAt,
    });
  }

  /**
   * Delivers `event` on the next turn of the event loop: the callers waiting for this refresh get their token
   * first, in the same chain of promises, and events keep their order. Each listener is on its own.
   */
  #emit(event: TokenEvent): void {
    if (this.#listeners.size === 0) return;
    const frozen = Object.freeze(event);
    const delivery = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      Promise.all([...this.#listeners].map((listener) => deliver(listener, frozen))),
    );
    const tracked = delivery.then(() => undefined);
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }
}

/** Calls one listener; whatever it throws or rejects with becomes a warning, never the caller's problem. */
async function deliver(listener: TokenEventListener, event: TokenEvent): Promise<void> {
  try {
    await listener(event);
  } catch (error) {
    reportSecondaryFailure(`トークンのイベント ${event.type} のリスナー`, error);
  }
}
