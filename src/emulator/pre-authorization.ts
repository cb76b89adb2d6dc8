// Doorkeeper::OAuth::PreAuthorization: the checks of `GET /oauth/authorize` (RFC 6749 §4.1.1, §4.1.2.1),
// in Doorkeeper's order (the first failure wins), and the grant an approved request yields.
import { type Application, isValidScopeString, parseScopes } from './applications.ts';
import { missingParameter, type OAuthError, oauthError } from './doorkeeper-errors.ts';
import { type IssueCodeOptions, OOB_REDIRECT_URI } from './options.ts';
import { type Params, presentParam } from './params.ts';
import { isRegisteredRedirectUri, redirectableUri } from './redirect-uri.ts';
import type { EmulatorState } from './state.ts';
import { type AccessGrant, RESOURCE_OWNER_ID } from './store.ts';

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
      /** Where the error may be sent back (RFC 6749 §4.1.2.1): only once the redirect URI has been checked. */
      readonly redirectUri: string | undefined;
      readonly state: string | undefined;
    };

export function preAuthorize(state: EmulatorState, params: Params): PreAuthorizationResult {
  const oauthState = presentParam(params, 'state');
  const fail = (error: OAuthError, redirectUri?: string): PreAuthorizationResult => ({
    ok: false,
    error,
    redirectUri: redirectableUri(redirectUri),
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

/** `Authorization::Code#issue_token!`: a single-use code valid 10 minutes, for the person at the browser (user 1). */
export function issueGrant(state: EmulatorState, preAuth: PreAuthorization): AccessGrant {
  return state.store.createGrant({
    applicationUid: preAuth.client.uid,
    resourceOwnerId: RESOURCE_OWNER_ID,
    redirectUri: preAuth.redirectUri,
    scopes: preAuth.scopes,
    nowMs: state.clock.nowMs(),
  });
}

/** The emulator refused to issue a code: an unknown client, redirect URI or scope. */
class IssueCodeError extends Error {
  override readonly name = 'IssueCodeError';
}

/**
 * Authorization codes issued without the browser step, for an application's own tests: what `GET /oauth/authorize`
 * followed by the person's approval yields, with the same checks and the same grant, so that the test then runs the
 * real code exchange (`alarmbox.exchangeCode(code)` or `alarmbox save-token --code`).
 * @throws IssueCodeError when the authorization request would be refused (its OAuth error and description)
 */
export function issueAuthorizationCode(state: EmulatorState, options: IssueCodeOptions = {}): string {
  const params = new Map<string, string>([
    ['client_id', options.clientId ?? state.options.clientId],
    ['redirect_uri', options.redirectUri ?? OOB_REDIRECT_URI],
    ['response_type', 'code'],
  ]);
  if (options.scope !== undefined) params.set('scope', options.scope);
  const result = preAuthorize(state, params);
  if (!result.ok) {
    throw new IssueCodeError(
      `エミュレータは認可コードを発行しませんでした: ${result.error.error} (${result.error.description})。` +
        'clientId・redirectUri・scope がエミュレータの設定 (startEmulator のオプション) にあるか確認してください。',
    );
  }
  return issueGrant(state, result.preAuth).code;
}
