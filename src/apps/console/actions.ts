// What the console's buttons do. Each action resolves to a Notice (never throws for an expected failure)
// and reuses the CLI's building blocks, so both say the same thing for the same failure.

import { saveTokenFromCode, validateCode } from '../../alarmbox/code-exchange.ts';
import type { Toolkit } from '../../create.ts';
import { formatTime } from '../format-time.ts';
import { failure, type Notice, success } from './notices.ts';

/** Step 6 with a code from the OOB page, a pasted redirect URL's `code=`, or the loopback callback. */
export async function connectWithCode(alarmbox: Toolkit, code: string, redirectUri: string): Promise<Notice> {
  try {
    // The same checks and messages as `save-token --code`: a stray space or 全角 character is caught
    // before the code is spent.
    const saved = await saveTokenFromCode(alarmbox, validateCode(code), redirectUri);
    return success(
      'AlarmBox と連携しました',
      `トークンを保存しました (有効期限: ${formatTime(saved.expiredAt)})`,
    );
  } catch (error) {
    return failure('連携できませんでした', error);
  }
}

/** `alarmbox refresh-token`: spends the refresh token now, through the lock, recorded as manual. */
export async function refreshNow(alarmbox: Toolkit): Promise<Notice> {
  try {
    const result = await alarmbox.tokens.refresh({ force: true, trigger: 'manual' });
    return result.refreshed
      ? success('トークンを更新しました', `新しい有効期限: ${formatTime(result.expiredAt)}`)
      : success(
          'ほかのプロセスがちょうど更新したトークンを使います',
          `有効期限: ${formatTime(result.expiredAt)}`,
        );
  } catch (error) {
    return failure('トークンを更新できませんでした', error);
  } finally {
    // The history row is written in the background; the page that follows must already show it.
    await alarmbox.history.flush();
  }
}

/** `alarmbox revoke --yes [--local-only]`: revokes the stored pair at AlarmBox (unless local only), deletes row 1. */
export async function revokeNow(alarmbox: Toolkit, localOnly: boolean): Promise<Notice> {
  try {
    const result = await alarmbox.revoke({
      localOnly,
      localOnlyHint:
        '「AlarmBox に届かなくても削除する」にチェックを入れて、もう一度「連携を解除」を押してください',
    });
    return success(localOnly ? '連携を解除しました (ローカルのみ)' : '連携を解除しました', ...result.lines);
  } catch (error) {
    return failure('連携を解除できませんでした', error);
  }
}
