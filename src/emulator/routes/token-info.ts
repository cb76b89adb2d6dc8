// `GET /oauth/token/info`: Doorkeeper's TokenInfoController#show.
import { type Context, Hono } from 'hono';
import { authenticateRequest } from '../bearer.ts';
import { INVALID_TOKEN_DESCRIPTIONS, jsonResponse, wwwAuthenticate } from '../doorkeeper-errors.ts';
import { faults } from '../fault-injection.ts';
import type { EmulatorEnv, EmulatorState } from '../state.ts';
import { expiresInSeconds, isAccessible } from '../store.ts';

/** Mounted under `/oauth`. */
export function tokenInfoRoute(state: EmulatorState): Hono<EmulatorEnv> {
  return new Hono<EmulatorEnv>().get('/token/info', faults(state, 'tokenInfo'), (c) => tokenInfo(state, c));
}

function tokenInfo(state: EmulatorState, c: Context<EmulatorEnv>): Response {
  // Looking the token up is a "use": in on_use rotation it revokes the pair it was refreshed from.
  const token = authenticateRequest(state, c);
  const nowMs = state.clock.nowMs();
  if (token === undefined || !isAccessible(token, nowMs)) {
    state.stats.tokenInfoRequest('invalid_token');
    // `InvalidTokenResponse.new` without a token: always the "unknown" description here.
    const description = INVALID_TOKEN_DESCRIPTIONS.unknown;
    return jsonResponse(
      { error: 'invalid_token', error_description: description, state: 'unauthorized' },
      401,
      {
        'Cache-Control': 'no-store',
        Pragma: 'no-cache',
        'WWW-Authenticate': wwwAuthenticate('invalid_token', description),
      },
    );
  }
  state.stats.tokenInfoRequest('ok');
  // `AccessToken#as_json`.
  return jsonResponse({
    resource_owner_id: token.resourceOwnerId,
    scope: token.scopes,
    expires_in: expiresInSeconds(token, nowMs),
    application: { uid: token.applicationUid },
    created_at: Math.floor(token.createdAtMs / 1000),
  });
}
