// In-memory `oauth_access_grants` and `oauth_access_tokens`. Every method is synchronous: a caller that
// checks and then revokes without an `await` in between is atomic (Node runs one handler at a time),
// which is what Doorkeeper gets from `lock!` inside a transaction.

import { randomToken } from './random-token.ts';
import { type AccessGrant, type AccessTokenRecord, AUTHORIZATION_CODE_TTL_SECONDS } from './records.ts';

export interface NewGrant {
  readonly applicationUid: string;
  readonly resourceOwnerId: number;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly nowMs: number;
}

export interface NewAccessToken {
  readonly applicationUid: string;
  readonly resourceOwnerId: number;
  readonly scopes: readonly string[];
  readonly expiresIn: number | null;
  readonly nowMs: number;
  readonly previousRefreshToken?: string;
}

export class EmulatorStore {
  readonly #grants = new Map<string, AccessGrant>();
  readonly #byToken = new Map<string, AccessTokenRecord>();
  readonly #byRefreshToken = new Map<string, AccessTokenRecord>();
  /** Length of the access and refresh tokens issued next (fault `tokenLength`); Doorkeeper's 43 by default. */
  tokenLength = 43;

  createGrant(grant: NewGrant): AccessGrant {
    const record: AccessGrant = {
      code: randomToken(),
      applicationUid: grant.applicationUid,
      resourceOwnerId: grant.resourceOwnerId,
      redirectUri: grant.redirectUri,
      scopes: grant.scopes,
      createdAtMs: grant.nowMs,
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
  createAccessToken(input: NewAccessToken): AccessTokenRecord {
    const record: AccessTokenRecord = {
      token: randomToken(this.tokenLength),
      refreshToken: randomToken(this.tokenLength),
      applicationUid: input.applicationUid,
      resourceOwnerId: input.resourceOwnerId,
      scopes: input.scopes,
      expiresIn: input.expiresIn,
      createdAtMs: input.nowMs,
      revokedAtMs: null,
      previousRefreshToken: input.previousRefreshToken ?? '',
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
