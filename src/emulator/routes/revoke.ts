// `POST /oauth/revoke` (RFC 7009): Doorkeeper's TokensController#revoke.
import type { Context, Hono } from 'hono';
import { clientCredentials } from '../client-auth.ts';
import { jsonResponse, REVOKE_UNAUTHORIZED } from '../doorkeeper-errors.ts';
import { withFaults } from '../fault-injection.ts';
import { presentParam, readRequestParams } from '../params.ts';
import type { EmulatorEnv, EmulatorState } from '../state.ts';

export function registerRevokeRoute(app: Hono<EmulatorEnv>, state: EmulatorState): void {
  app.post(
    '/oauth/revoke',
    withFaults(state, 'revoke', (c) => revoke(state, c)),
  );
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
