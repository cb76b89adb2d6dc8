// `doorkeeper_authorize! :scope` for the protected API (RFC 6750 §3.1): 401 with an empty body and a
// Bearer challenge for a missing, unknown, revoked or expired token; 403 with an empty body for a
// token without the scope.
import type { Context } from 'hono';
import { authenticateAccessToken, bearerToken, invalidTokenReason } from './bearer.ts';
import { INVALID_TOKEN_DESCRIPTIONS, wwwAuthenticate } from './doorkeeper-errors.ts';
import { parseQuery } from './params.ts';
import { type AccessTokenRecord, isAccessible } from './records.ts';
import type { EmulatorEnv, EmulatorState } from './state.ts';

export type ApiAuthorization =
  | { readonly ok: true; readonly token: AccessTokenRecord }
  | {
      readonly ok: false;
      readonly outcome: 'invalid_token' | 'insufficient_scope';
      readonly response: Response;
    };

export function authorizeApiRequest(
  state: EmulatorState,
  c: Context<EmulatorEnv>,
  scope: string,
): ApiAuthorization {
  // The lookup is the "first use" that retires the previous pair in on_use rotation (bearer.ts).
  const token = authenticateAccessToken(
    state,
    bearerToken(c.req.header('authorization'), parseQuery(c.req.url)),
  );
  const nowMs = state.clock.nowMs();
  if (token === undefined || !isAccessible(token, nowMs)) {
    const description = INVALID_TOKEN_DESCRIPTIONS[invalidTokenReason(token, nowMs)];
    // `doorkeeper_render_error`: the ErrorResponse headers without Content-Type, then `head :unauthorized`.
    return {
      ok: false,
      outcome: 'invalid_token',
      response: new Response(null, {
        status: 401,
        headers: {
          'Cache-Control': 'no-store',
          Pragma: 'no-cache',
          'Content-Length': '0',
          'WWW-Authenticate': wwwAuthenticate('invalid_token', description),
        },
      }),
    };
  }
  if (!token.scopes.includes(scope)) {
    // ForbiddenTokenResponse drops the WWW-Authenticate header.
    return {
      ok: false,
      outcome: 'insufficient_scope',
      response: new Response(null, {
        status: 403,
        headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Content-Length': '0' },
      }),
    };
  }
  return { ok: true, token };
}
