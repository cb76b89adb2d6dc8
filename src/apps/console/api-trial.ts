// "API を試す": with the emulator, a credit check with one of AlarmBox's test corporation numbers (fixed
// results ok / hold / ng); with the real AlarmBox only a read-only call that costs nothing. Both go through
// the typed API client (`alarmbox.api`): its token handling, timeouts and Japanese errors, as in the CLI.

import { AlarmboxApiInputError } from '../../api/errors.ts';
import { creditCheckResultLabel } from '../../api/summary.ts';
import type { Toolkit } from '../../create.ts';
import { formatRemaining } from '../format-time.ts';
import { failure, type Notice, success } from './notices.ts';

/** AlarmBox test accounts answer these numbers with fixed results (docs/design.md「AlarmBox について分かっていること」). */
export const TEST_CORPORATION_NUMBERS = [
  { number: '0000000000001', expected: '問題なし (ok) になる番号' },
  { number: '0000000000002', expected: '保留 (hold) になる番号' },
  { number: '0000000000003', expected: '要注意 (ng) になる番号' },
] as const;

/** A credit check with a test number (the emulator only: on the real AlarmBox a purchase costs money). */
export async function tryCreditCheck(alarmbox: Toolkit, corporationNumber: unknown): Promise<Notice> {
  try {
    const known = TEST_CORPORATION_NUMBERS.find((n) => n.number === corporationNumber);
    if (known === undefined) {
      throw new AlarmboxApiInputError(
        `法人番号は ${TEST_CORPORATION_NUMBERS.map((n) => n.number).join(' / ')} から選んでください (リクエストは送信していません)。`,
      );
    }
    const check = await alarmbox.api.creditChecks.create({ corporation_number: known.number });
    return success(
      `信用チェックの結果: ${creditCheckResultLabel(check.result)}`,
      `${check.corporation_name} (法人番号 ${check.corporation_number})`,
      `信用チェック ID ${String(check.credit_check_id)} / 購入日 ${check.purchase_date} / 有効期限 ${check.expiration_date}`,
    );
  } catch (error) {
    return failure('API の呼び出しに失敗しました', error);
  }
}

/** `GET /oauth/token/info` (Doorkeeper's TokenInfoController): what the token may do, for how long. */
function parseTokenInfo(body: unknown): { scope: string; expiresIn: number | null } {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const scope = Array.isArray(record.scope) ? record.scope.map(String).join(' ') : '(不明)';
  return { scope, expiresIn: typeof record.expires_in === 'number' ? record.expires_in : null };
}

/** The read-only call for the real AlarmBox. Shows the scope and the remaining time, never the token. */
export async function tryTokenInfo(alarmbox: Toolkit): Promise<Notice> {
  try {
    const info = await alarmbox.api.request('GET', '/oauth/token/info', undefined, { parse: parseTokenInfo });
    return success(
      'AlarmBox がトークンを受け付けました (GET /oauth/token/info)',
      `スコープ: ${info.scope}`,
      `有効期限: ${info.expiresIn === null ? '無期限' : formatRemaining(new Date(Date.now() + info.expiresIn * 1000))}`,
    );
  } catch (error) {
    return failure('API の呼び出しに失敗しました', error);
  }
}
