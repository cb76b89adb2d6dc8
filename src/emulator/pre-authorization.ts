// Doorkeeper::OAuth::PreAuthorization: the checks of `GET /oauth/authorize` (RFC 6749 §4.1.1, §4.1.2.1),
// in Doorkeeper's order; the first failure wins.
import type { Application } from './applications.ts';
import { missingParameter, type OAuthError, oauthError } from './doorkeeper-errors.ts';
import { type Params, presentParam } from './params.ts';
import { isOobUri, isRegisteredRedirectUri } from './redirect-uri.ts';
import { isValidScopeString, parseScopes } from './scopes.ts';
import type { EmulatorState } from './state.ts';

export interface PreAuthorization {
  readonly client: Application;
  readonly redirectUri: string;
  readonly responseType: 'code';
  readonly scopes: readonly string[];
  readonly state: string | undefined;
}

export type PreAuthorizationResult =
  | { readonly ok: true; readonly preAuth: PreAuthorization }
  | {
      readonly ok: false;
      readonly error: OAuthError;
      /**
       * Where the error may be sent back (RFC 6749 §4.1.2.1): only once the redirect URI has been checked
       * against the client's, and never the OOB URI (`ErrorResponse#redirectable?`).
       */
      readonly redirectUri: string | undefined;
      readonly state: string | undefined;
    };

export function preAuthorize(state: EmulatorState, params: Params): PreAuthorizationResult {
  const oauthState = presentParam(params, 'state');
  const fail = (error: OAuthError, redirectUri?: string): PreAuthorizationResult => ({
    ok: false,
    error,
    redirectUri: redirectUri === undefined || isOobUri(redirectUri) ? undefined : redirectUri,
    state: oauthState,
  });
  const clientId = presentParam(params, 'client_id');
  if (clientId === undefined) return fail(missingParameter('client_id'));
  const client = state.applications.byUid(clientId);
  if (client === undefined) return fail(oauthError('invalid_client'));
  // RFC 6749 §4.1.2.1: an unknown redirect URI is never redirected to (no open redirector).
  const redirectUri = presentParam(params, 'redirect_uri');
  if (redirectUri === undefined || !isRegisteredRedirectUri(redirectUri, client.redirectUris)) {
    return fail(oauthError('invalid_redirect_uri'));
  }
  const responseType = presentParam(params, 'response_type');
  if (responseType === undefined) return fail(missingParameter('response_type'), redirectUri);
  if (responseType !== 'code') return fail(oauthError('unsupported_response_type'), redirectUri);
  // A request without scope gets the application's scopes (RFC 6749 §3.3 lets the server pick a default).
  const scope = presentParam(params, 'scope') ?? client.scopes.join(' ');
  if (!isValidScopeString(scope, client.scopes)) return fail(oauthError('invalid_scope'), redirectUri);
  return {
    ok: true,
    preAuth: { client, redirectUri, responseType: 'code', scopes: parseScopes(scope), state: oauthState },
  };
}
