// The emulator as a Hono application: Doorkeeper's endpoints, the protected API and the control API.
import { Hono } from 'hono';
import { jsonResponse, oauthError, oauthErrorResponse } from './doorkeeper-errors.ts';
import { RequestInputError } from './params.ts';
import { requestLog } from './request-log.ts';
import { registerAuthorizeRoutes } from './routes/authorize.ts';
import { registerControlRoutes } from './routes/control.ts';
import { registerCreditCheckRoutes } from './routes/credit-checks.ts';
import { registerRevokeRoute } from './routes/revoke.ts';
import { registerTokenRoute } from './routes/token.ts';
import { registerTokenInfoRoute } from './routes/token-info.ts';
import type { EmulatorEnv, EmulatorState } from './state.ts';

export function createEmulatorApp(state: EmulatorState): Hono<EmulatorEnv> {
  const app = new Hono<EmulatorEnv>();
  app.use(requestLog(state));
  registerAuthorizeRoutes(app, state);
  registerTokenRoute(app, state);
  registerRevokeRoute(app, state);
  registerTokenInfoRoute(app, state);
  registerCreditCheckRoutes(app, state);
  registerControlRoutes(app, state);
  app.notFound(() => jsonResponse({ error: 'not_found' }, 404));
  app.onError((error) => {
    // Malformed input (bad %-encoding, invalid UTF-8 or JSON, > 1 MiB) is the client's fault: a 4xx,
    // in the OAuth error shape so OAuth clients can read it.
    if (error instanceof RequestInputError) {
      return error.status === 413
        ? oauthErrorResponse(
            { error: 'invalid_request', description: 'The request body exceeds 1 MiB.' },
            413,
          )
        : oauthErrorResponse(oauthError('invalid_request'));
    }
    // Only the class name: a message could quote request data.
    state.log(`内部エラー: ${error.name}`);
    return jsonResponse({ error: 'server_error' }, 500);
  });
  return app;
}
