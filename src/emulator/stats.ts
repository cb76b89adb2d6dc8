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
  #stats = emptyStats();

  tokenRequest(grant: TokenGrantKey, outcome: string): void {
    bump(this.#stats.tokenRequests[grant], outcome);
  }

  refreshed(nowMs: number): void {
    this.#stats.lastRefreshAt = new Date(nowMs).toISOString();
  }

  apiRequest(outcome: string): void {
    bump(this.#stats.apiRequests, outcome);
  }

  revokeRequest(outcome: string): void {
    bump(this.#stats.revokeRequests, outcome);
  }

  tokenInfoRequest(outcome: string): void {
    bump(this.#stats.tokenInfoRequests, outcome);
  }

  faultInjected(endpoint: FaultEndpoint): void {
    this.#stats.faultsInjected[endpoint]++;
  }

  /** A deep copy: later requests do not change a snapshot already handed out. */
  snapshot(): EmulatorStats {
    return structuredClone(this.#stats);
  }

  clear(): void {
    this.#stats = emptyStats();
  }
}

function bump(counters: Record<string, number>, key: string): void {
  counters[key] = (counters[key] ?? 0) + 1;
}

/** The counters at zero; the same shape as EmulatorStats, mutable. */
function emptyStats() {
  const counters = (): Record<string, number> => ({});
  return {
    tokenRequests: { authorization_code: counters(), refresh_token: counters(), other: counters() },
    apiRequests: counters(),
    revokeRequests: counters(),
    tokenInfoRequests: counters(),
    faultsInjected: Object.fromEntries(FAULT_ENDPOINTS.map((e) => [e, 0])) as Record<FaultEndpoint, number>,
    lastRefreshAt: null as string | null,
  };
}
