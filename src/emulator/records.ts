// What Doorkeeper keeps in `oauth_access_grants` and `oauth_access_tokens`, and its Expirable rules.

/** Doorkeeper's `authorization_code_expires_in` default: 10 minutes. */
export const AUTHORIZATION_CODE_TTL_SECONDS = 600;

/** The single resource owner of the emulator (there is no login: the person at the browser is "user 1"). */
export const RESOURCE_OWNER_ID = 1;

export interface AccessGrant {
  readonly code: string;
  readonly applicationUid: string;
  readonly resourceOwnerId: number;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly createdAtMs: number;
  readonly expiresIn: number;
  revokedAtMs: number | null;
}

/** One row: an access token and its refresh token live and die together (revoking either kills both). */
export interface AccessTokenRecord {
  readonly token: string;
  readonly refreshToken: string;
  readonly applicationUid: string;
  readonly resourceOwnerId: number;
  readonly scopes: readonly string[];
  /** Seconds; null = never expires. */
  readonly expiresIn: number | null;
  readonly createdAtMs: number;
  revokedAtMs: number | null;
  /**
   * on_use rotation: the refresh token this pair was made from, cleared ('') once the old pair has been
   * revoked by the first use of this access token (Doorkeeper's `previous_refresh_token` column).
   */
  previousRefreshToken: string;
}

interface Expirable {
  readonly createdAtMs: number;
  readonly expiresIn: number | null;
}

/** `Expirable#expired?`: strictly after `created_at + expires_in`. */
export function isExpired(record: Expirable, nowMs: number): boolean {
  return record.expiresIn !== null && nowMs > record.createdAtMs + record.expiresIn * 1000;
}

/** `Expirable#expires_in_seconds`: the remaining lifetime, rounded, never negative; null when it never expires. */
export function expiresInSeconds(record: Expirable, nowMs: number): number | null {
  if (record.expiresIn === null) return null;
  const remaining = Math.round((record.createdAtMs + record.expiresIn * 1000 - nowMs) / 1000);
  return Math.max(remaining, 0);
}

/**
 * `revoked?`. Doorkeeper also compares `revoked_at` with now (to schedule revocations); the emulator
 * does not, so that moving the emulator clock back never resurrects a revoked token.
 */
export function isRevoked(record: { readonly revokedAtMs: number | null }): boolean {
  return record.revokedAtMs !== null;
}

/** `AccessToken#accessible?` / `AccessGrant#accessible?`. */
export function isAccessible(
  record: Expirable & { readonly revokedAtMs: number | null },
  nowMs: number,
): boolean {
  return !isExpired(record, nowMs) && !isRevoked(record);
}
