// The token endpoint's grant strategies (RFC 6749 §4.1.3 and §6) as Doorkeeper's AuthorizationCodeRequest and
// RefreshTokenRequest implement them. The checks run in Doorkeeper's order and the first failure wins.
import { type Application, type ClientCredentials, isValidScopeString, parseScopes } from './applications.ts';
import { missingParameter, type OAuthError, oauthError } from './doorkeeper-errors.ts';
import { type Params, presentParam } from './params.ts';
import { isRegisteredRedirectUri } from './redirect-uri.ts';
import type { EmulatorState } from './state.ts';
import { type AccessTokenRecord, isAccessible, isRevoked } from './store.ts';

/** What a grant strategy decided. Strategies are synchronous so that check-then-revoke is atomic. */
export type GrantOutcome =
  | { readonly ok: true; readonly token: AccessTokenRecord }
  | { readonly ok: false; readonly error: OAuthError };

export function refuse(error: OAuthError): GrantOutcome {
  return { ok: false, error };
}

/** RFC 6749 §4.1.3. */
export function authorizationCodeGrant(
  state: EmulatorState,
  params: Params,
  credentials: ClientCredentials | undefined,
): GrantOutcome {
  // Request::AuthorizationCode#grant raises MissingRequiredParameter before anything else.
  const code = presentParam(params, 'code');
  if (code === undefined) return refuse(missingParameter('code'));
  // validate :params (no PKCE here, so only redirect_uri is required).
  const redirectUri = presentParam(params, 'redirect_uri');
  if (redirectUri === undefined) return refuse(missingParameter('redirect_uri'));
  // validate :client: a confidential client must authenticate (RFC 6749 §4.1.3).
  const client = credentials && state.applications.authenticate(credentials.uid, credentials.secret);
  if (client === undefined) return refuse(oauthError('invalid_client'));
  // validate :grant: unknown, issued to another client, expired (10 min) or already used.
  const nowMs = state.clock.nowMs();
  const grant = state.store.grantByCode(code);
  if (grant === undefined || grant.applicationUid !== client.uid || !isAccessible(grant, nowMs)) {
    return refuse(oauthError('invalid_grant'));
  }
  // validate :redirect_uri: must match the one given at authorize (RFC 6749 §4.1.3).
  if (!isRegisteredRedirectUri(redirectUri, [grant.redirectUri])) return refuse(oauthError('invalid_grant'));
  // before_successful_response: the code is single use (RFC 6749 §4.1.2); revoke it and issue the pair
  // without an await in between, as Doorkeeper does under `grant.lock!`.
  state.store.revoke(grant, nowMs);
  const token = state.store.createAccessToken({
    applicationUid: grant.applicationUid,
    resourceOwnerId: grant.resourceOwnerId,
    scopes: grant.scopes,
    expiresIn: state.options.accessTtl,
    nowMs,
  });
  return { ok: true, token };
}

/** RFC 6749 §6, with both rotation modes. */
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
