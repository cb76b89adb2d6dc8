// One line per request: method, path, status, duration. Never the query string or a body: they carry
// codes, tokens and the client secret (`/oauth/authorize/native?code=…`, `?access_token=…`).
import type { MiddlewareHandler } from 'hono';
import type { EmulatorEnv, EmulatorState } from './state.ts';

export function requestLog(state: EmulatorState): MiddlewareHandler<EmulatorEnv> {
  if (state.options.quiet) return (_c, next) => next();
  return async (c, next) => {
    const start = performance.now();
    await next();
    const status = c.res.headers.has('x-hono-already-sent') ? '(接続切断)' : String(c.res.status);
    state.log(`${c.req.method} ${c.req.path} ${status} ${(performance.now() - start).toFixed(1)}ms`);
  };
}
