// Doorkeeper's TokensController: `POST /oauth/token` (RFC 6749 §3.2, #create with the authorization_code and
// refresh_token strategies enabled) and `POST /oauth/revoke` (RFC 7009, #revoke).
import { type Context, Hono } from 'hono';
import { clientCredentials } from '../applications.ts';
import {
  jsonResponse,
  missingParameter,
  oauthError,
  oauthErrorResponse,
  REVOKE_UNAUTHORIZED,
} from '../doorkeeper-errors.ts';
import { faults } from '../fault-injection.ts';
import { authorizationCodeGrant, type GrantOutcome, refreshTokenGrant, refuse } from '../grants.ts';
import { presentParam, readRequestParams } from '../params.ts';
import type { EmulatorEnv, EmulatorState } from '../state.ts';
import type { TokenGrantKey } from '../stats.ts';
import { type AccessTokenRecord, expiresInSeconds } from '../store.ts';

/** Mounted under `/oauth`. */
export function tokenRoutes(state: EmulatorState): Hono<EmulatorEnv> {
  return new Hono<EmulatorEnv>()
    .post('/token', faults(state, 'token'), (c) => issueToken(state, c))
    .post('/revoke', faults(state, 'revoke'), (c) => revoke(state, c));
}

/** The grant types enabled; any other (password, client_credentials, …) is unsupported_grant_type (RFC 6749 §5.2). */
const GRANTS = { authorization_code: authorizationCodeGrant, refresh_token: refreshTokenGrant } as const;

async function issueToken(state: EmulatorState, c: Context<EmulatorEnv>): Promise<Response> {
  // Form, JSON or query parameters: Doorkeeper reads Rails' merged `params`.
  const params = await readRequestParams(c.req.raw);
  const credentials = clientCredentials(c.req.header('authorization'), params);
  const grantType = presentParam(params, 'grant_type');
  const grant: TokenGrantKey =
    grantType === 'authorization_code' || grantType === 'refresh_token' ? grantType : 'other';
  let outcome: GrantOutcome;
  if (grantType === undefined) outcome = refuse(missingParameter('grant_type'));
  else if (grant === 'other') outcome = refuse(oauthError('unsupported_grant_type'));
  else outcome = GRANTS[grant](state, params, credentials);
  state.stats.tokenRequest(grant, outcome.ok ? 'ok' : outcome.error.error);
  if (!outcome.ok) return oauthErrorResponse(outcome.error);
  if (grant === 'refresh_token') state.stats.refreshed(outcome.token.createdAtMs);
  return tokenResponse(outcome.token);
}

/** Doorkeeper::OAuth::TokenResponse: RFC 6749 §5.1 success body and headers, at the token's creation. */
function tokenResponse(token: AccessTokenRecord): Response {
  const body: Record<string, string | number | null> = {
    access_token: token.token,
    token_type: 'Bearer',
    expires_in: expiresInSeconds(token, token.createdAtMs),
    refresh_token: token.refreshToken,
    scope: token.scopes.join(' '),
    created_at: Math.floor(token.createdAtMs / 1000),
  };
  // `.reject { |_, value| value.blank? }`: no `expires_in` for tokens that never expire.
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === '') delete body[key];
  }
  // RFC 6749 §5.1: responses carrying tokens must not be cached.
  return jsonResponse(body, 200, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}

async function revoke(state: EmulatorState, c: Context<EmulatorEnv>): Promise<Response> {
  const params = await readRequestParams(c.req.raw);
  // RFC 7009 §2.1: the client authenticates first; Doorkeeper refuses with 403 unauthorized_client.
  const credentials = clientCredentials(c.req.header('authorization'), params);
  const client = credentials && state.applications.authenticate(credentials.uid, credentials.secret);
  const unauthorized = () => {
    state.stats.revokeRequest('unauthorized_client');
    return jsonResponse(
      { error: REVOKE_UNAUTHORIZED.error, error_description: REVOKE_UNAUTHORIZED.description },
      403,
    );
  };
  if (client === undefined) return unauthorized();
  const value = presentParam(params, 'token');
  if (value !== undefined) {
    const byRefresh = () => state.store.byRefreshToken(value);
    const record =
      params.get('token_type_hint') === 'refresh_token'
        ? byRefresh()
        : (state.store.byToken(value) ?? byRefresh());
    if (record !== undefined) {
      // RFC 7009 §2.1: the token must have been issued to the client asking.
      if (record.applicationUid !== client.uid) return unauthorized();
      // One row holds both tokens: revoking either kills the pair (RFC 7009 §2.1 allows it).
      state.store.revoke(record, state.clock.nowMs());
    }
  }
  // RFC 7009 §2.2: 200 also for an unknown or already revoked token.
  state.stats.revokeRequest('ok');
  return jsonResponse({});
}
