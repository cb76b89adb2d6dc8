// What the console's routes share: the toolkit and its settings, the notice board, the pending loopback
// authorizations, and the few ways a handler answers (a page, a refusal, a redirect carrying a notice).
import type { Context } from 'hono';
import { assertMigrated } from '../../db/migrate.ts';
import { type ConnectPlan, connectPlan } from './connect-plan.ts';
import type { ConsoleDeps, ConsoleEnv } from './context.ts';
import { errorText, type Notice, NoticeBoard } from './notices.ts';
import { PendingAuthorizations } from './pending-authorizations.ts';
import type { TokenSummary } from './views/dashboard.ts';
import type { Html } from './views/html.ts';
import type { PageBase } from './views/layout.ts';
import { messagePage } from './views/message.ts';

export type PageStatus = 200 | 400 | 403 | 404 | 411 | 413 | 500;

export interface ConsoleKit {
  readonly deps: ConsoleDeps;
  readonly notices: NoticeBoard;
  readonly pending: PendingAuthorizations;
  /** The fields every page model starts with; takes the notice named by `?notice=`. */
  pageBase(c: Context<ConsoleEnv>): PageBase;
  render(c: Context<ConsoleEnv>, body: Html, status?: PageStatus): Response;
  /** A message page: a refusal, or the unexpected error (500). */
  refuse(c: Context<ConsoleEnv>, status: Exclude<PageStatus, 200>, title: string, message: string): Response;
  /** Post/redirect/get: the notice is shown once by the page at `path`. */
  redirectWith(c: Context<ConsoleEnv>, path: string, notice: Notice): Response;
  /** One terminal line for what a button did: `<action>: 成功` or `<action>: 失敗 (<reason>)`. */
  logOutcome(action: string, notice: Notice): void;
  /** How this console connects (paste a code, or a loopback redirect), or why it cannot. */
  plan(): { plan: ConnectPlan | undefined; problem: string | undefined };
  /** Row 1 as the pages show it (no token); checks the migrations once. */
  readToken(): Promise<TokenSummary>;
  /** The emulator answers credit checks for test numbers; the real AlarmBox gets only a read-only call. */
  apiTarget(): 'emulator' | 'alarmbox';
}

export function createConsoleKit(deps: ConsoleDeps): ConsoleKit {
  const { alarmbox } = deps;
  const { config } = alarmbox;
  const notices = new NoticeBoard();
  const nonceOf = (c: Context<ConsoleEnv>) => c.get('secureHeadersNonce') ?? '';
  const render = (c: Context<ConsoleEnv>, body: Html, status: PageStatus = 200) =>
    c.html(body.toString(), status);
  let migrated = false;
  return {
    deps,
    notices,
    pending: new PendingAuthorizations(),
    pageBase: (c) => ({
      nonce: nonceOf(c),
      csrfToken: c.get('csrfToken'),
      notice: notices.take(c.req.query('notice')),
      env: config.env,
      sandbox: deps.sandbox !== undefined,
    }),
    render,
    refuse: (c, status, title, message) => render(c, messagePage(nonceOf(c), title, message), status),
    redirectWith: (c, path, notice) => c.redirect(`${path}?notice=${notices.post(notice)}`, 303),
    logOutcome: (action, notice) =>
      deps.log(`${action}: ${notice.kind === 'success' ? '成功' : `失敗 (${notice.reason})`}`),
    plan() {
      try {
        return { plan: connectPlan(config, deps.port(), deps.sandbox !== undefined), problem: undefined };
      } catch (error) {
        return { plan: undefined, problem: errorText(error) };
      }
    },
    async readToken() {
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
        lastRefreshAt: t.lastRefreshAt,
        lastRefreshOutcome: t.lastRefreshOutcome,
        lastError: t.lastError,
      };
    },
    apiTarget() {
      // Plain http is allowed only for loopback (config.ts): that is an emulator on this machine.
      return deps.sandbox !== undefined || new URL(config.baseUrl).protocol === 'http:'
        ? 'emulator'
        : 'alarmbox';
    },
  };
}
