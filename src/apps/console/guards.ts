// What every request of the console passes first: loopback Host only, security headers with a per-response CSP
// nonce, no caching, a bounded POST body, and Origin + CSRF token on every POST.
import type { Hono } from 'hono';
import { NONCE, secureHeaders } from 'hono/secure-headers';
import { CONSOLE_HOSTS, type ConsoleEnv } from './context.ts';
import { csrfProtection } from './csrf.ts';
import type { ConsoleKit } from './kit.ts';

const MAX_BODY_BYTES = 16 * 1024;

export function installGuards(app: Hono<ConsoleEnv>, kit: ConsoleKit): void {
  const { deps, refuse } = kit;
  // DNS rebinding: a page of any web site whose name resolves to 127.0.0.1 would otherwise be same-origin
  // with us and could read our pages. Only our own host names are served.
  app.use(async (c, next) => {
    const host = c.req.header('host') ?? '';
    const allowed = CONSOLE_HOSTS.map((name) => `${name}:${deps.port()}`);
    if (!allowed.includes(host)) {
      return c.text(`このコンソールには http://127.0.0.1:${deps.port()}/ からアクセスしてください。`, 403);
    }
    return next();
  });
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: [NONCE],
        styleSrc: [NONCE],
        // Forms post to us; "AlarmBox と連携" then redirects to AlarmBox's authorize page, which
        // form-action also governs.
        formAction: ["'self'", new URL(deps.alarmbox.config.baseUrl).origin],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      xFrameOptions: 'DENY',
      // A POST must carry Origin (CSRF check); `no-referrer` would make browsers send `Origin: null`.
      referrerPolicy: 'same-origin',
      // Plain HTTP on loopback: HSTS would be ignored at best.
      strictTransportSecurity: false,
      // The callback page sets a stricter Referrer-Policy of its own.
      overwrite: false,
    }),
  );
  app.use(async (c, next) => {
    await next();
    // Pages show live state and carry CSRF tokens: never from a cache, never into one.
    c.header('Cache-Control', 'no-store');
  });
  // Not hono/body-limit: for a body without Content-Length it re-wraps the request in a `Request`, which
  // @hono/node-server's request object cannot be (a TypeError, answered 500). The console's forms are small
  // and browsers always send Content-Length, so a POST without one is refused before anything is read.
  app.use(async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const length = Number(c.req.header('content-length') ?? Number.NaN);
    if (!Number.isSafeInteger(length) || length < 0) {
      return refuse(
        c,
        411,
        '送信内容の長さが分かりません',
        'Content-Length のないリクエストは受け付けません。ブラウザのフォームから送信してください。',
      );
    }
    if (length > MAX_BODY_BYTES) {
      return refuse(c, 413, '送信内容が大きすぎます', '入力内容を確認して、もう一度送信してください。');
    }
    return next();
  });
  app.use(csrfProtection((c, message) => refuse(c, 403, '操作を受け付けませんでした', message)));
}
