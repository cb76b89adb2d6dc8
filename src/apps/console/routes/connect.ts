// Connecting to AlarmBox: the page (`/connect`), the loopback authorization (`POST /connect/start`, then
// AlarmBox redirects to `/callback`) and the pasted code (`POST /connect/code`).
import { Hono } from 'hono';
import { connectWithCode } from '../actions.ts';
import { connectAuthorizeUrl } from '../connect-plan.ts';
import type { ConsoleEnv } from '../context.ts';
import type { ConsoleKit } from '../kit.ts';
import type { Notice } from '../notices.ts';
import { connectPage } from '../views/connect.ts';
import { hopPage } from '../views/message.ts';

export function connectRoutes(kit: ConsoleKit): Hono<ConsoleEnv> {
  const { deps, notices, pending, render, refuse, redirectWith } = kit;
  const { alarmbox } = deps;
  const routes = new Hono<ConsoleEnv>();

  routes.get('/connect', async (c) => {
    // Only whether a pair is registered, for the page's wording: a database problem shows on the dashboard.
    const token = await kit.readToken().catch(() => undefined);
    return render(
      c,
      connectPage({
        ...kit.pageBase(c),
        ...kit.plan(),
        registered: token?.registered === true,
      }),
    );
  });

  routes.post('/connect/start', (c) => {
    const redirectUri = kit.plan().plan?.loopbackRedirectUri;
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
    return c.redirect(connectAuthorizeUrl(alarmbox.config, redirectUri, state), 303);
  });

  routes.post('/connect/code', async (c) => {
    const paste = kit.plan().plan?.paste;
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
    kit.logOutcome('認可コードで連携', notice);
    return redirectWith(c, notice.kind === 'success' ? '/' : '/connect', notice);
  });

  routes.get('/callback', async (c) => {
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
    const notice =
      error !== null
        ? refusedNotice(error)
        : await connectWithCode(alarmbox, query.get('code') ?? '', started.redirectUri);
    kit.logOutcome('ループバックで連携', notice);
    const target = `${notice.kind === 'success' ? '/' : '/connect'}?notice=${notices.post(notice)}`;
    // The address bar still shows ?code=…: keep it out of the Referer of the next request.
    c.header('Referrer-Policy', 'no-referrer');
    return render(c, hopPage(notice.title, target));
  });

  return routes;
}

/** AlarmBox sent the person back with an error instead of a code (RFC 6749 §4.1.2.1). */
function refusedNotice(error: string): Notice {
  return {
    kind: 'error',
    title: '連携できませんでした',
    lines: [
      error === 'access_denied'
        ? 'AlarmBox の画面で連携が否認されました (access_denied)。'
        : `AlarmBox が認可エラーを返しました (${error.slice(0, 64)})。`,
    ],
    reason: 'reauthorization_required',
  };
}
