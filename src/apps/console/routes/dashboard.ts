// The dashboard (`/`) and its buttons: 今すぐ更新 (`POST /refresh`) and API を試す (`POST /api-trial`); 連携を解除 leads to routes/revoke.ts.
import { type Context, Hono } from 'hono';
import { describeTarget } from '../../../db/url.ts';
import { refreshNow } from '../actions.ts';
import { tryCreditCheck, tryTokenInfo } from '../api-trial.ts';
import { callbackUrl } from '../connect-plan.ts';
import type { ConsoleEnv } from '../context.ts';
import type { ConsoleKit } from '../kit.ts';
import { errorText } from '../notices.ts';
import { type DashboardModel, dashboardPage } from '../views/dashboard.ts';

export function dashboardRoutes(kit: ConsoleKit): Hono<ConsoleEnv> {
  const { deps, render, redirectWith } = kit;
  const { alarmbox } = deps;
  const routes = new Hono<ConsoleEnv>();

  routes.get('/', async (c) => render(c, dashboardPage(await dashboard(kit, c))));
  // Browsers ask for it on every page; an empty answer keeps their consoles free of 404 noise.
  routes.get('/favicon.ico', (c) => c.body(null, 204));

  routes.post('/refresh', async (c) => {
    const notice = await refreshNow(alarmbox);
    kit.logOutcome('今すぐ更新', notice);
    return redirectWith(c, '/', notice);
  });

  routes.post('/api-trial', async (c) => {
    const notice =
      kit.apiTarget() === 'emulator'
        ? await tryCreditCheck(alarmbox, (await c.req.parseBody()).corporation_number)
        : await tryTokenInfo(alarmbox);
    kit.logOutcome('API を試す', notice);
    return redirectWith(c, '/', notice);
  });

  return routes;
}

/** Everything the dashboard shows; a part that cannot be read becomes a problem line, not an error page. */
async function dashboard(kit: ConsoleKit, c: Context<ConsoleEnv>): Promise<DashboardModel> {
  const { deps } = kit;
  const { alarmbox } = deps;
  const { config } = alarmbox;
  const problems: string[] = [];
  const problem = (error: unknown) => {
    problems.push(errorText(error));
    return undefined;
  };
  const token = await kit.readToken().catch(problem);
  const summary = token === undefined ? undefined : await alarmbox.history.summary(10).catch(problem);
  return {
    ...kit.pageBase(c),
    token,
    history: summary?.recent,
    consecutiveFailures: summary?.consecutiveFailures ?? 0,
    problems,
    baseUrl: config.baseUrl,
    database: describeTarget(alarmbox.database.target),
    // The sandbox's emulator has both registered; elsewhere only the configured one is used.
    redirectUri:
      deps.sandbox === undefined ? config.redirectUri : `${config.redirectUri} / ${callbackUrl(deps.port())}`,
    scope: config.scope,
    sandboxInfo: deps.sandbox,
    apiTarget: kit.apiTarget(),
  };
}
