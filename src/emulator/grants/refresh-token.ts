// RFC 6749 §6 as Doorkeeper::OAuth::RefreshTokenRequest implements it, with both rotation modes.
import type { Application } from '../applications.ts';
import type { ClientCredentials } from '../client-auth.ts';
import { missingParameter, oauthError } from '../doorkeeper-errors.ts';
import { type Params, presentParam } from '../params.ts';
import { isRevoked } from '../records.ts';
import { isValidScopeString, parseScopes } from '../scopes.ts';
import type { EmulatorState } from '../state.ts';
import { type GrantOutcome, refuse } from './outcome.ts';

export function refreshTokenGrant(
  state: EmulatorState,
  params: Params,
  credentials: ClientCredentials | undefined,
): GrantOutcome {
  // validate :token_presence
  const refreshToken = presentParam(params, 'refresh_token');
  if (refreshToken === undefined) return refuse(missingParameter('refresh_token'));
  // validate :token: unknown or revoked. Expiry is not checked: refresh tokens never expire.
  const previous = state.store.byRefreshToken(refreshToken);
  if (previous === undefined || isRevoked(previous)) return refuse(oauthError('invalid_grant'));
  // validate :client: only when credentials were sent; a wrong secret is invalid_client (401).
  let client: Application | undefined;
  if (credentials !== undefined) {
    client = state.applications.authenticate(credentials.uid, credentials.secret);
    if (client === undefined) return refuse(oauthError('invalid_client'));
  }
  // validate :client_match: no credentials at all, or another client's token → invalid_grant.
  if (client === undefined || client.uid !== previous.applicationUid) {
    return refuse(oauthError('invalid_grant'));
  }
  // validate :scope: a narrower scope may be asked for, never a wider one (RFC 6749 §6).
  const requested = presentParam(params, 'scope') ?? presentParam(params, 'scopes');
  if (requested !== undefined && !isValidScopeString(requested, previous.scopes)) {
    return refuse(oauthError('invalid_scope'));
  }
  // before_successful_response: from here to the return there is no await, so the revocation check
  // above and the revocation below are one atomic step (Doorkeeper: `refresh_token.lock!`).
  const nowMs = state.clock.nowMs();
  const onUse = state.options.rotation === 'on_use';
  if (!onUse) state.store.revoke(previous, nowMs);
  const token = state.store.createAccessToken({
    applicationUid: previous.applicationUid,
    resourceOwnerId: previous.resourceOwnerId,
    scopes: requested === undefined ? previous.scopes : parseScopes(requested),
    // The new pair gets the old token's lifetime, not the current configuration's.
    expiresIn: previous.expiresIn,
    nowMs,
    // on_use: the old pair dies when this new access token is first used (bearer.ts).
    previousRefreshToken: onUse ? previous.refreshToken : '',
  });
  return { ok: true, token };
}
