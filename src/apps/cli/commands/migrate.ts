import type { Command } from 'commander';
import { migrateToLatest } from '../../../db/migrate.ts';
import { describeTarget } from '../../../db/url.ts';
import { withAlarmbox } from '../context.ts';
import { say } from '../output.ts';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description(
      'トークン保存用テーブル (hansha_alarmbox_tokens) とロック用テーブルを作成・更新します (何度実行しても安全)',
    )
    .action(async () => {
      await withAlarmbox(
        async ({ database }) => {
          const { applied } = await migrateToLatest(database);
          const where = describeTarget(database.target);
          say(
            applied.length === 0
              ? `テーブルは最新です (${where})。`
              : `マイグレーションを適用しました (${where}): ${applied.join(', ')}`,
          );
        },
        { forMigrate: true },
      );
    });
}
