// 連携を解除: the confirmation page (`GET /revoke`) and the revocation (`POST /revoke`, CSRF-checked like every
// POST). The action is `alarmbox revoke`'s (src/alarmbox/revoke.ts): the same lease, messages and history row.
import { Hono } from 'hono';
import { describeTarget } from '../../../db/url.ts';
import { revokeNow } from '../actions.ts';
import type { ConsoleEnv } from '../context.ts';
import type { ConsoleKit } from '../kit.ts';
import { REVOKE_FIELDS, revokePage } from '../views/revoke.ts';

export function revokeRoutes(kit: ConsoleKit): Hono<ConsoleEnv> {
  const { deps, render, redirectWith } = kit;
  const { alarmbox } = deps;
  const routes = new Hono<ConsoleEnv>();

  routes.get('/revoke', async (c) => {
    const token = await kit.readToken().catch(() => undefined);
    return render(
      c,
      revokePage({
        ...kit.pageBase(c),
        baseUrl: alarmbox.config.baseUrl,
        database: describeTarget(alarmbox.database.target),
        registered: token?.registered,
      }),
    );
  });

  routes.post('/revoke', async (c) => {
    const body = await c.req.parseBody();
    // The checkbox is `required` in the page; a form sent without it (another client, a crafted request) still
    // revokes nothing.
    if (body[REVOKE_FIELDS.confirm] !== 'yes') {
      return redirectWith(c, '/revoke', {
        kind: 'error',
        title: '連携を解除していません',
        lines: [
          '確認のチェックが入っていません。内容を確認してチェックを入れてから「連携を解除」を押してください。',
        ],
        reason: 'usage',
      });
    }
    const localOnly = body[REVOKE_FIELDS.localOnly] === 'yes';
    const notice = await revokeNow(alarmbox, localOnly);
    kit.logOutcome(`連携を解除${localOnly ? ' (ローカルのみ)' : ''}`, notice);
    // A failure stays on the confirmation page, where the local-only choice is.
    return redirectWith(c, notice.kind === 'success' ? '/' : '/revoke', notice);
  });

  return routes;
}
