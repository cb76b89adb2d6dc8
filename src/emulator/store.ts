// In-memory `oauth_access_grants` and `oauth_access_tokens` (what Doorkeeper keeps, and its Expirable rules).
// Every store method is synchronous: a caller that checks and then revokes without an `await` in between is
// atomic (Node runs one handler at a time), which is what Doorkeeper gets from `lock!` inside a transaction.
import { randomBytes } from 'node:crypto';

/** Doorkeeper's `authorization_code_expires_in` default: 10 minutes. */
const AUTHORIZATION_CODE_TTL_SECONDS = 600;

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

/**
 * A new access token, refresh token or authorization code: Doorkeeper's default generator is
 * `SecureRandom.urlsafe_base64(32)`, i.e. 32 random bytes as unpadded base64url = 43 chars of [A-Za-z0-9_-].
 */
function randomToken(length = 43): string {
  // A custom Doorkeeper generator (JWT, longer random) issues longer tokens: `length` characters of the same alphabet.
  if (length === 43) return randomBytes(32).toString('base64url');
  return randomBytes(Math.ceil((length * 3) / 4) + 1)
    .toString('base64url')
    .slice(0, length);
}

/** A grant to record: what the authorization request decided, and when. */
type NewGrant = Pick<AccessGrant, 'applicationUid' | 'resourceOwnerId' | 'redirectUri' | 'scopes'> & {
  readonly nowMs: number;
};

/** A token pair to issue: what the grant decided, when, and (on_use rotation) the refresh token it replaces. */
type NewAccessToken = Pick<
  AccessTokenRecord,
  'applicationUid' | 'resourceOwnerId' | 'scopes' | 'expiresIn'
> & {
  readonly nowMs: number;
  readonly previousRefreshToken?: string;
};

export class EmulatorStore {
  readonly #grants = new Map<string, AccessGrant>();
  readonly #byToken = new Map<string, AccessTokenRecord>();
  readonly #byRefreshToken = new Map<string, AccessTokenRecord>();
  /** Length of the access and refresh tokens issued next (fault `tokenLength`); Doorkeeper's 43 by default. */
  tokenLength = 43;

  createGrant({ nowMs, ...grant }: NewGrant): AccessGrant {
    const record: AccessGrant = {
      ...grant,
      code: randomToken(),
      createdAtMs: nowMs,
      expiresIn: AUTHORIZATION_CODE_TTL_SECONDS,
      revokedAtMs: null,
    };
    this.#grants.set(record.code, record);
    return record;
  }

  /** `AccessGrant.by_token`. */
  grantByCode(code: string): AccessGrant | undefined {
    return this.#grants.get(code);
  }

  /** `AccessToken.create_for` with `use_refresh_token` on. */
  createAccessToken({ nowMs, previousRefreshToken = '', ...token }: NewAccessToken): AccessTokenRecord {
    const record: AccessTokenRecord = {
      ...token,
      token: randomToken(this.tokenLength),
      refreshToken: randomToken(this.tokenLength),
      createdAtMs: nowMs,
      revokedAtMs: null,
      previousRefreshToken,
    };
    this.#byToken.set(record.token, record);
    this.#byRefreshToken.set(record.refreshToken, record);
    return record;
  }

  /** `AccessToken.by_token`. */
  byToken(token: string): AccessTokenRecord | undefined {
    return this.#byToken.get(token);
  }

  /** `AccessToken.by_refresh_token`. */
  byRefreshToken(refreshToken: string): AccessTokenRecord | undefined {
    return this.#byRefreshToken.get(refreshToken);
  }

  /** `revoke`: a no-op on an already revoked row, so the first revocation time is kept. */
  revoke(record: { revokedAtMs: number | null }, nowMs: number): void {
    if (record.revokedAtMs === null) record.revokedAtMs = nowMs;
  }

  clear(): void {
    this.#grants.clear();
    this.#byToken.clear();
    this.#byRefreshToken.clear();
  }
}
