// RFC 6749 §4.1.3 as Doorkeeper::OAuth::AuthorizationCodeRequest implements it. The checks run in
// Doorkeeper's order and the first failure wins.
import type { ClientCredentials } from '../client-auth.ts';
import { missingParameter, oauthError } from '../doorkeeper-errors.ts';
import { type Params, presentParam } from '../params.ts';
import { isAccessible } from '../records.ts';
import { isRegisteredRedirectUri } from '../redirect-uri.ts';
import type { EmulatorState } from '../state.ts';
import { type GrantOutcome, refuse } from './outcome.ts';

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
