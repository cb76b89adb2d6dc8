import type { Command } from 'commander';
import { rekeyStoredToken } from '../../../alarmbox/rekey.ts';
import { withAlarmbox } from '../context.ts';
import { say } from '../output.ts';

export function registerRekeyCommand(program: Command): void {
  program
    .command('rekey')
    .description(
      '保存済みトークンを ALARMBOX_ENCRYPTION_KEYS の先頭のキーで暗号化し直します (キーのローテーション用。アプリの稼働中に実行して構いません)',
    )
    .addHelpText(
      'after',
      [
        '',
        '手順: 1. 新しいキーを鍵リングの先頭に追加 (例: ALARMBOX_ENCRYPTION_KEYS=k2:…,k1:…)',
        '      2. すべてのアプリとジョブにその設定を配置',
        '      3. alarmbox rekey',
        '      4. 古いキー (k1) を鍵リングから削除して配置',
        '終了コード: 0 成功 (再暗号化が不要だった場合も) / 2 キーが鍵リングにない・設定の誤り / 3 トークン未登録 / 5 一時的な失敗',
      ].join('\n'),
    )
    .action(async () => {
      await withAlarmbox(async ({ database, config }) => {
        const ring = config.keyRing();
        const result = await rekeyStoredToken(database, ring);
        if (!result.changed) {
          say(`トークンはすでに先頭のキー "${result.keyId}" で暗号化されています。再暗号化は不要です。`);
          return;
        }
        const old = result.previousKeyIds.filter((id) => id !== result.keyId);
        say(
          `トークンをキー "${result.keyId}" で暗号化し直しました (以前のキー: ${result.previousKeyIds.join(', ')})。`,
        );
        say(
          `すべてのアプリとジョブが新しい鍵リングで動いていれば、ALARMBOX_ENCRYPTION_KEYS から ${old.map((id) => `"${id}"`).join(', ')} を削除できます (削除前に alarmbox doctor で確認してください)。`,
        );
      });
    });
}
