// The console's Hono app: a few server-rendered pages and POST forms, in the emulator's idiom — the guards
// every request passes (guards.ts), then the routes mounted with `app.route` (routes/).
import { Hono } from 'hono';
import type { ConsoleDeps, ConsoleEnv } from './context.ts';
import { installGuards } from './guards.ts';
import { createConsoleKit } from './kit.ts';
import { connectRoutes } from './routes/connect.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { revokeRoutes } from './routes/revoke.ts';

export function createConsoleApp(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const kit = createConsoleKit(deps);
  const app = new Hono<ConsoleEnv>();
  installGuards(app, kit);
  app.route('/', dashboardRoutes(kit));
  app.route('/', connectRoutes(kit));
  app.route('/', revokeRoutes(kit));
  app.notFound((c) => kit.refuse(c, 404, 'ページが見つかりません', 'URL を確認してください。'));
  app.onError((error, c) => {
    // Like the CLI for unknown errors: the class only (a driver may echo a connection string).
    deps.log(`予期しないエラー (${error.name})`);
    return kit.refuse(
      c,
      500,
      '予期しないエラーが発生しました',
      `${error.name}。コンソールを起動したターミナルの出力を確認してください。`,
    );
  });
  return app;
}
