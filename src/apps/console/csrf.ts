// CSRF protection for every POST form: a signed double-submit cookie plus an Origin check.
// - The browser gets a random session id in a SameSite=Strict, HttpOnly cookie; each form carries
//   HMAC(per-process secret, session id) in a hidden field. Another site can neither read the field nor
//   make the browser send the cookie, and a cookie planted by another program on 127.0.0.1 (cookies do not
//   separate ports) is useless without the secret. A restart invalidates every form: a new secret.
// - The Origin header (or, failing that, the Referer) must be the console itself; browsers always send one
//   of them on a form POST from our pages (Referrer-Policy: same-origin keeps it).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { ConsoleEnv } from './context.ts';

export const CSRF_FIELD = '_csrf';

export const CSRF_TOKEN_MESSAGE =
  'フォームの確認用トークンが一致しないため、操作を受け付けませんでした (CSRF 対策)。ページを再読み込みしてから、もう一度操作してください。';
export const CSRF_ORIGIN_MESSAGE =
  'このコンソール以外のページから送られた操作は受け付けません (Origin が一致しません)。コンソールの画面から操作してください。';

const SAFE_METHODS = /^(?:GET|HEAD|OPTIONS)$/;
const SESSION_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The middleware; `reject` answers a refused POST with the message. One secret per call (per console). */
export function csrfProtection(
  reject: (c: Context<ConsoleEnv>, message: string) => Response | Promise<Response>,
): MiddlewareHandler<ConsoleEnv> {
  const secret = randomBytes(32);
  const tokenFor = (session: string) => createHmac('sha256', secret).update(session).digest('base64url');
  const verify = (session: string, token: string) => {
    const expected = Buffer.from(tokenFor(session));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  return async (c, next) => {
    // One cookie per console port: two consoles on one machine must not overwrite each other's session.
    const name = `alarmbox_console_csrf_${new URL(c.req.url).port}`;
    const cookie = getCookie(c, name);
    const known = cookie !== undefined && SESSION_PATTERN.test(cookie);
    const session = known ? cookie : randomBytes(32).toString('base64url');
    if (!known) setCookie(c, name, session, { path: '/', httpOnly: true, sameSite: 'Strict' });
    c.set('csrfToken', tokenFor(session));
    if (SAFE_METHODS.test(c.req.method)) return next();

    if (!fromOwnOrigin(c)) return reject(c, CSRF_ORIGIN_MESSAGE);
    if (!known) return reject(c, CSRF_TOKEN_MESSAGE);
    const contentType = c.req.header('content-type') ?? '';
    if (!/^application\/x-www-form-urlencoded\b/i.test(contentType)) return reject(c, CSRF_TOKEN_MESSAGE);
    const token = (await c.req.parseBody())[CSRF_FIELD];
    if (typeof token !== 'string' || !verify(session, token)) return reject(c, CSRF_TOKEN_MESSAGE);
    return next();
  };
}

/** The request's own origin (its Host was checked before) against Origin, or Referer when Origin is absent. */
function fromOwnOrigin(c: Context<ConsoleEnv>): boolean {
  const own = new URL(c.req.url).origin;
  const origin = c.req.header('origin');
  if (origin !== undefined) return origin === own;
  const referer = c.req.header('referer');
  if (referer === undefined || !URL.canParse(referer)) return false;
  return new URL(referer).origin === own;
}
