import type { Command } from 'commander';
import { AlarmboxTokenNotFoundError } from '../../../alarmbox/errors.ts';
import { ConfigError } from '../../../config/index.ts';
import { withAlarmbox } from '../context.ts';
import { say } from '../output.ts';

export function registerExpireTokenCommand(program: Command): void {
  program
    .command('expire-token')
    .description(
      '保存済みトークンを強制的に期限切れにします (自動更新の動作確認用、ガイドの Step 8-4)。本番では使えません',
    )
    .action(async () => {
      await withAlarmbox(async ({ store, config }) => {
        if (config.env === 'production') {
          throw new ConfigError(
            'ALARMBOX_ENV',
            'ALARMBOX_ENV=production では expire-token は使えません (本番のトークンを無駄に更新しないため)。動作確認は local または dev で行ってください。',
          );
        }
        if (!(await store.markExpired())) throw new AlarmboxTokenNotFoundError();
        say('トークンを期限切れにしました。次回 access-token などで取得すると自動で更新されます。');
      });
    });
}
