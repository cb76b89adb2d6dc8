// The console's Hono app: a few server-rendered pages and POST forms. Every response: loopback Host only,
// security headers with a per-response CSP nonce, no caching; every POST: Origin + CSRF token.
import { type Context, Hono } from 'hono';
import { NONCE, secureHeaders } from 'hono/secure-headers';
import { assertMigrated } from '../../db/migrate.ts';
import { describeTarget } from '../../db/url.ts';
import { connectWithCode, refreshNow } from './actions.ts';
import { tryCreditCheck, tryTokenInfo } from './api-trial.ts';
import { type ConnectPlan, callbackUrl, connectPlan, loopbackAuthorizeUrl } from './connect-plan.ts';
import { CONSOLE_HOSTS, type ConsoleDeps, type ConsoleEnv } from './context.ts';
import { CsrfGuard } from './csrf.ts';
import { errorText, type Notice, NoticeBoard } from './notices.ts';
import { PendingAuthorizations } from './pending-authorizations.ts';
import { connectPage } from './views/connect.ts';
import { type DashboardModel, dashboardPage, type TokenSummary } from './views/dashboard.ts';
import type { Html } from './views/html.ts';
import { hopPage, messagePage } from './views/message.ts';

const MAX_BODY_BYTES = 16 * 1024;

export function createConsoleApp(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const { alarmbox } = deps;
  const { config } = alarmbox;
  const notices = new NoticeBoard();
  const pending = new PendingAuthorizations();
  const csrf = new CsrfGuard();
  const app = new Hono<ConsoleEnv>();
  const nonceOf = (c: Context<ConsoleEnv>) => c.get('secureHeadersNonce') ?? '';
  const render = (
    c: Context<ConsoleEnv>,
    body: Html,
    status: 200 | 400 | 403 | 404 | 411 | 413 | 500 = 200,
  ) => c.html(body.toString(), status);
  const refuse = (
    c: Context<ConsoleEnv>,
    status: 400 | 403 | 404 | 411 | 413,
    title: string,
    message: string,
  ) => render(c, messagePage(nonceOf(c), title, message), status);
  /** Post/redirect/get: the notice is shown once by the page at `path`. */
  const redirectWith = (c: Context<ConsoleEnv>, path: string, notice: Notice) =>
    c.redirect(`${path}?notice=${notices.post(notice)}`, 303);

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
        formAction: ["'self'", new URL(config.baseUrl).origin],
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
  app.use(csrf.middleware((c, message) => refuse(c, 403, '操作を受け付けませんでした', message)));

  const plan = (): { plan: ConnectPlan | undefined; problem: string | undefined } => {
    try {
      return { plan: connectPlan(config, deps.port(), deps.sandbox !== undefined), problem: undefined };
    } catch (error) {
      return { plan: undefined, problem: errorText(error) };
    }
  };

  app.get('/', async (c) => render(c, dashboardPage(await dashboard(c))));
  // Browsers ask for it on every page; an empty answer keeps their consoles free of 404 noise.
  app.get('/favicon.ico', (c) => c.body(null, 204));

  app.get('/connect', async (c) => {
    const token = await readToken().catch(() => undefined);
    return render(
      c,
      connectPage({
        nonce: nonceOf(c),
        csrfToken: c.get('csrfToken'),
        notice: notices.take(c.req.query('notice')),
        env: config.env,
        sandbox: deps.sandbox !== undefined,
        ...plan(),
        registered: token?.registered === true,
      }),
    );
  });

  app.post('/connect/start', (c) => {
    const redirectUri = plan().plan?.loopbackRedirectUri;
    if (redirectUri === undefined) {
      return redirectWith(c, '/connect', {
        kind: 'error',
        title: '自動で戻る連携は使えません',
        lines: ['このコンソールのリダイレクト URI が設定されていません。下の説明を確認してください。'],
        reason: 'configuration',
      });
    }
    const state = pending.begin(redirectUri);
    deps.log('連携を開始しました (ループバック)');
    return c.redirect(loopbackAuthorizeUrl(config, redirectUri, state), 303);
  });

  app.post('/connect/code', async (c) => {
    const paste = plan().plan?.paste;
    const code = (await c.req.parseBody()).code;
    if (paste === undefined) {
      return redirectWith(c, '/connect', {
        kind: 'error',
        title: '認可コードの貼り付けは使えません',
        lines: ['このコンソールは自動で戻る連携を使う設定です。「AlarmBox と連携」を押してください。'],
        reason: 'configuration',
      });
    }
    const notice = await connectWithCode(alarmbox, typeof code === 'string' ? code : '', paste.redirectUri);
    deps.log(`認可コードで連携: ${notice.kind === 'success' ? '成功' : `失敗 (${notice.reason})`}`);
    return redirectWith(c, notice.kind === 'success' ? '/' : '/connect', notice);
  });

  app.get('/callback', async (c) => {
    const query = new URL(c.req.url).searchParams;
    const started = pending.finish(query.get('state') ?? undefined);
    if (started === undefined) {
      deps.log('コールバックを拒否しました (state が一致しません)');
      return refuse(
        c,
        400,
        '連携を完了できませんでした',
        'state が一致しないか、有効期限 (10 分) が切れています。このコンソールで始めた連携ではない可能性があるため、認可コードは使用していません。「AlarmBox と連携」からやり直してください。',
      );
    }
    const error = query.get('error');
    const notice: Notice =
      error !== null
        ? {
            kind: 'error',
            title: '連携できませんでした',
            lines: [
              error === 'access_denied'
                ? 'AlarmBox の画面で連携が否認されました (access_denied)。'
                : `AlarmBox が認可エラーを返しました (${error.slice(0, 64)})。`,
            ],
            reason: 'reauthorization_required',
          }
        : await connectWithCode(alarmbox, query.get('code') ?? '', started.redirectUri);
    deps.log(`ループバックで連携: ${notice.kind === 'success' ? '成功' : `失敗 (${notice.reason})`}`);
    const target = `${notice.kind === 'success' ? '/' : '/connect'}?notice=${notices.post(notice)}`;
    // The address bar still shows ?code=…: keep it out of the Referer of the next request.
    c.header('Referrer-Policy', 'no-referrer');
    return render(c, hopPage(notice.title, target));
  });

  app.post('/refresh', async (c) => {
    const notice = await refreshNow(alarmbox);
    deps.log(`今すぐ更新: ${notice.kind === 'success' ? '成功' : `失敗 (${notice.reason})`}`);
    return redirectWith(c, '/', notice);
  });

  app.post('/api-trial', async (c) => {
    const notice =
      apiTarget() === 'emulator'
        ? await tryCreditCheck(alarmbox, (await c.req.parseBody()).corporation_number)
        : await tryTokenInfo(alarmbox);
    deps.log(`API を試す: ${notice.kind === 'success' ? '成功' : `失敗 (${notice.reason})`}`);
    return redirectWith(c, '/', notice);
  });

  app.notFound((c) => refuse(c, 404, 'ページが見つかりません', 'URL を確認してください。'));
  app.onError((error, c) => {
    // Like the CLI for unknown errors: the class only (a driver may echo a connection string).
    deps.log(`予期しないエラー (${error.name})`);
    return render(
      c,
      messagePage(
        nonceOf(c),
        '予期しないエラーが発生しました',
        `${error.name}。コンソールを起動したターミナルの出力を確認してください。`,
      ),
      500,
    );
  });

  /** The emulator answers credit checks for test numbers; the real AlarmBox gets only a read-only call. */
  function apiTarget(): 'emulator' | 'alarmbox' {
    // Plain http is allowed only for loopback (config.ts): that is an emulator on this machine.
    return deps.sandbox !== undefined || new URL(config.baseUrl).protocol === 'http:'
      ? 'emulator'
      : 'alarmbox';
  }

  let migrated = false;
  async function readToken(): Promise<TokenSummary> {
    if (!migrated) {
      await assertMigrated(alarmbox.database);
      migrated = true;
    }
    const t = await alarmbox.store.getInstance();
    return {
      registered: t.isRegistered,
      expiredAt: t.expiredAt,
      scope: t.scope,
      version: t.version,
      updatedAt: t.updatedAt,
      lastRefreshAt: t.lastRefreshAt,
      lastRefreshOutcome: t.lastRefreshOutcome,
      lastError: t.lastError,
    };
  }

  async function dashboard(c: Context<ConsoleEnv>): Promise<DashboardModel> {
    const problems: string[] = [];
    const problem = (error: unknown) => {
      problems.push(errorText(error));
      return undefined;
    };
    const token = await readToken().catch(problem);
    const summary = token === undefined ? undefined : await alarmbox.history.summary(10).catch(problem);
    return {
      nonce: nonceOf(c),
      csrfToken: c.get('csrfToken'),
      notice: notices.take(c.req.query('notice')),
      token,
      history: summary?.recent,
      consecutiveFailures: summary?.consecutiveFailures ?? 0,
      problems,
      env: config.env,
      baseUrl: config.baseUrl,
      database: describeTarget(alarmbox.database.target),
      // The sandbox's emulator has both registered; elsewhere only the configured one is used.
      redirectUri:
        deps.sandbox === undefined
          ? config.redirectUri
          : `${config.redirectUri} / ${callbackUrl(deps.port())}`,
      scope: config.scope,
      sandbox: deps.sandbox,
      apiTarget: apiTarget(),
    };
  }

  return app;
}
