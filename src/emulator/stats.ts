// Counters that let tests and benchmarks see what the server did, not only what the client saw
// (e.g. a refresh whose answer was dropped still counts as `refresh_token.ok`).
import { FAULT_ENDPOINTS, type FaultEndpoint } from './faults.ts';

/** The grant types that the token endpoint counts separately. */
export type TokenGrantKey = 'authorization_code' | 'refresh_token' | 'other';

/** Counters of a running emulator. */
export interface EmulatorStats {
  /** `POST /oauth/token` requests that reached the grant logic: grant → outcome (`ok` or the OAuth error code) → count. */
  readonly tokenRequests: Readonly<Record<TokenGrantKey, Readonly<Record<string, number>>>>;
  /** Protected API calls by outcome: `ok`, `invalid_token`, `insufficient_scope`, `bad_request`, `not_found`, `payload_too_large`. */
  readonly apiRequests: Readonly<Record<string, number>>;
  /** `POST /oauth/revoke` by outcome: `ok`, `unauthorized_client`. */
  readonly revokeRequests: Readonly<Record<string, number>>;
  /** `GET /oauth/token/info` by outcome: `ok`, `invalid_token`. */
  readonly tokenInfoRequests: Readonly<Record<string, number>>;
  /** Requests an injected fault acted on (delayed, failed, dropped or tampered), by endpoint. */
  readonly faultsInjected: Readonly<Record<FaultEndpoint, number>>;
  /** Emulator-clock time (ISO 8601) of the last successful `refresh_token` grant; null before the first. */
  readonly lastRefreshAt: string | null;
}

export class StatsRecorder {
  #token = emptyTokenCounters();
  #api: Record<string, number> = {};
  #revoke: Record<string, number> = {};
  #tokenInfo: Record<string, number> = {};
  #faults = emptyFaultCounters();
  #lastRefreshAt: string | null = null;

  tokenRequest(grant: TokenGrantKey, outcome: string): void {
    bump(this.#token[grant], outcome);
  }

  refreshed(nowMs: number): void {
    this.#lastRefreshAt = new Date(nowMs).toISOString();
  }

  apiRequest(outcome: string): void {
    bump(this.#api, outcome);
  }

  revokeRequest(outcome: string): void {
    bump(this.#revoke, outcome);
  }

  tokenInfoRequest(outcome: string): void {
    bump(this.#tokenInfo, outcome);
  }

  faultInjected(endpoint: FaultEndpoint): void {
    this.#faults[endpoint]++;
  }

  /** A copy: later requests do not change a snapshot already handed out. */
  snapshot(): EmulatorStats {
    return {
      tokenRequests: {
        authorization_code: { ...this.#token.authorization_code },
        refresh_token: { ...this.#token.refresh_token },
        other: { ...this.#token.other },
      },
      apiRequests: { ...this.#api },
      revokeRequests: { ...this.#revoke },
      tokenInfoRequests: { ...this.#tokenInfo },
      faultsInjected: { ...this.#faults },
      lastRefreshAt: this.#lastRefreshAt,
    };
  }

  clear(): void {
    this.#token = emptyTokenCounters();
    this.#api = {};
    this.#revoke = {};
    this.#tokenInfo = {};
    this.#faults = emptyFaultCounters();
    this.#lastRefreshAt = null;
  }
}

function bump(counters: Record<string, number>, key: string): void {
  counters[key] = (counters[key] ?? 0) + 1;
}

function emptyTokenCounters(): Record<TokenGrantKey, Record<string, number>> {
  return { authorization_code: {}, refresh_token: {}, other: {} };
}

function emptyFaultCounters(): Record<FaultEndpoint, number> {
  return Object.fromEntries(FAULT_ENDPOINTS.map((e) => [e, 0])) as Record<FaultEndpoint, number>;
}
