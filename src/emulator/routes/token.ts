// `POST /oauth/token` (RFC 6749 §3.2): Doorkeeper's TokensController#create with the
// authorization_code and refresh_token strategies enabled.
import type { Context, Hono } from 'hono';
import { clientCredentials } from '../client-auth.ts';
import { missingParameter, oauthError, oauthErrorResponse } from '../doorkeeper-errors.ts';
import { withFaults } from '../fault-injection.ts';
import { authorizationCodeGrant } from '../grants/authorization-code.ts';
import { type GrantOutcome, refuse } from '../grants/outcome.ts';
import { refreshTokenGrant } from '../grants/refresh-token.ts';
import { tokenResponse } from '../grants/token-response.ts';
import { presentParam, readRequestParams } from '../params.ts';
import type { EmulatorEnv, EmulatorState } from '../state.ts';
import type { TokenGrantKey } from '../stats.ts';

export function registerTokenRoute(app: Hono<EmulatorEnv>, state: EmulatorState): void {
  app.post(
    '/oauth/token',
    withFaults(state, 'token', (c) => issueToken(state, c)),
  );
}

async function issueToken(state: EmulatorState, c: Context<EmulatorEnv>): Promise<Response> {
  // Form, JSON or query parameters: Doorkeeper reads Rails' merged `params`.
  const params = await readRequestParams(c.req.raw);
  const credentials = clientCredentials(c.req.header('authorization'), params);
  const grantType = presentParam(params, 'grant_type');
  let grant: TokenGrantKey = 'other';
  let outcome: GrantOutcome;
  if (grantType === undefined) {
    outcome = refuse(missingParameter('grant_type'));
  } else if (grantType === 'authorization_code') {
    grant = 'authorization_code';
    outcome = authorizationCodeGrant(state, params, credentials);
  } else if (grantType === 'refresh_token') {
    grant = 'refresh_token';
    outcome = refreshTokenGrant(state, params, credentials);
  } else {
    // password, client_credentials, … are not enabled (RFC 6749 §5.2 unsupported_grant_type).
    outcome = refuse(oauthError('unsupported_grant_type'));
  }
  state.stats.tokenRequest(grant, outcome.ok ? 'ok' : outcome.error.error);
  if (!outcome.ok) return oauthErrorResponse(outcome.error);
  if (grant === 'refresh_token') state.stats.refreshed(outcome.token.createdAtMs);
  return tokenResponse(outcome.token, outcome.token.createdAtMs);
}
