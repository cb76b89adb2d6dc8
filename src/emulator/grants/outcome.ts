import type { OAuthError } from '../doorkeeper-errors.ts';
import type { AccessTokenRecord } from '../records.ts';

/** What a grant strategy decided. Strategies are synchronous so that check-then-revoke is atomic. */
export type GrantOutcome =
  | { readonly ok: true; readonly token: AccessTokenRecord }
  | { readonly ok: false; readonly error: OAuthError };

export function refuse(error: OAuthError): GrantOutcome {
  return { ok: false, error };
}
