// Doorkeeper::OAuth::Token: how protected resources (the API, /oauth/token/info) find the access token,
// and the on_use rotation hook that runs on that lookup.
import type { InvalidTokenReason } from './doorkeeper-errors.ts';
import type { Params } from './params.ts';
import { type AccessTokenRecord, isExpired, isRevoked } from './records.ts';
import type { EmulatorState } from './state.ts';

/**
 * `access_token_methods` default order: `Authorization: Bearer …` (case-insensitive scheme),
 * then the `access_token` parameter, then `bearer_token` (RFC 6750 §2.1, §2.3).
 */
export function bearerToken(authorization: string | undefined, params: Params): string | undefined {
  const header = /^Bearer (.*)$/is.exec(authorization ?? '');
  const token = header?.[1] ?? params.get('access_token') ?? params.get('bearer_token');
  return token === undefined || token.trim() === '' ? undefined : token;
}

/**
 * `OAuth::Token.authenticate`: looks the token up and, in on_use rotation, revokes the pair this token was
 * refreshed from (`revoke_previous_refresh_token!`). Doorkeeper does so on any lookup, even of an expired
 * token, and only once: `previous_refresh_token` is cleared. Synchronous, hence atomic.
 */
export function authenticateAccessToken(
  state: EmulatorState,
  token: string | undefined,
): AccessTokenRecord | undefined {
  if (token === undefined) return undefined;
  const record = state.store.byToken(token);
  if (record === undefined) return undefined;
  if (record.previousRefreshToken !== '') {
    const previous = state.store.byRefreshToken(record.previousRefreshToken);
    if (previous !== undefined) state.store.revoke(previous, state.clock.nowMs());
    record.previousRefreshToken = '';
  }
  return record;
}

/** `InvalidTokenResponse.from_access_token`: revoked first, then expired, else unknown. */
export function invalidTokenReason(record: AccessTokenRecord | undefined, nowMs: number): InvalidTokenReason {
  if (record === undefined) return 'unknown';
  if (isRevoked(record)) return 'revoked';
  if (isExpired(record, nowMs)) return 'expired';
  return 'unknown';
}
