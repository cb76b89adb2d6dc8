// The emulator as a Hono application: Doorkeeper's endpoints, the protected API and the control API, each a
// sub-app mounted with `app.route`; faults are middleware on the endpoints they name (fault-injection.ts).
import { Hono, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { jsonResponse } from './doorkeeper-errors.ts';
import type { FaultPlan } from './faults.ts';
import { type EmulatorOptions, type IssueCodeOptions, resolveEmulatorOptions } from './options.ts';
import { issueAuthorizationCode } from './pre-authorization.ts';
import { authorizeRoutes } from './routes/authorize.ts';
import { controlRoutes } from './routes/control.ts';
import { creditCheckRoutes } from './routes/credit-checks.ts';
import { tokenRoutes } from './routes/token.ts';
import { tokenInfoRoute } from './routes/token-info.ts';
import { createEmulatorState, type EmulatorEnv, type EmulatorState, resetEmulatorState } from './state.ts';

/** The emulator without a socket: its Hono app and the controls of `RunningEmulator` (index.ts). */
export type Emulator = ReturnType<typeof createEmulator>;

/**
 * Resolves the options (throws RangeError on an invalid one) and builds the app around a fresh state. The return
 * type is inferred: it is RunningEmulator's controls, checked where startEmulator returns them.
 */
export function createEmulator(options: EmulatorOptions = {}) {
  const resolved = resolveEmulatorOptions(options);
  const log = options.log ?? ((line: string) => process.stderr.write(`[alarmbox emulator] ${line}\n`));
  const state = createEmulatorState(resolved, log);
  return {
    app: createEmulatorApp(state),
    options: resolved,
    stats: () => state.stats.snapshot(),
    issueAuthorizationCode: (issue?: IssueCodeOptions) => issueAuthorizationCode(state, issue),
    setFaults: (faults: FaultPlan) => state.faults.set(faults),
    setClockOffset: (seconds: number) => state.clock.setOffsetSeconds(seconds),
    reset: () => resetEmulatorState(state),
  };
}

function createEmulatorApp(state: EmulatorState): Hono<EmulatorEnv> {
  const app = new Hono<EmulatorEnv>();
  app.use(requestLog(state));
  app.route('/oauth', authorizeRoutes(state));
  app.route('/oauth', tokenRoutes(state));
  app.route('/oauth', tokenInfoRoute(state));
  app.route('/ps/v1', creditCheckRoutes(state));
  app.route('/__emulator', controlRoutes(state));
  app.notFound(() => jsonResponse({ error: 'not_found' }, 404));
  app.onError((error) => {
    // Malformed input (params.ts) and refused control requests carry their answer.
    if (error instanceof HTTPException) return error.getResponse();
    // Only the class name: a message could quote request data.
    state.log(`内部エラー: ${error.name}`);
    return jsonResponse({ error: 'server_error' }, 500);
  });
  return app;
}

/**
 * One line per request: method, path, status, duration. Never the query string or a body: they carry
 * codes, tokens and the client secret (`/oauth/authorize/native?code=…`, `?access_token=…`).
 */
function requestLog(state: EmulatorState): MiddlewareHandler<EmulatorEnv> {
  if (state.options.quiet) return (_c, next) => next();
  return async (c, next) => {
    const start = performance.now();
    await next();
    const status = c.res.headers.has('x-hono-already-sent') ? '(接続切断)' : String(c.res.status);
    state.log(`${c.req.method} ${c.req.path} ${status} ${(performance.now() - start).toFixed(1)}ms`);
  };
}
