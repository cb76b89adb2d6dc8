import type { Command } from 'commander';
import { saveTokenFromCode, validateCode } from '../../alarmbox/code-exchange.ts';
import { loadConfig } from '../../config/index.ts';
import { withAlarmbox } from '../context.ts';
import { formatTime, say } from '../output.ts';

export function registerSaveTokenCommand(program: Command): void {
  program
    .command('save-token')
    .description('認可コードからトークンを取得して、暗号化して保存します (ガイドの Step 6)')
    .requiredOption('--code <code>', '認可コード (ブラウザで取得、10 分以内・1 回限り)')
    .option(
      '--redirect-uri <uri>',
      '認可時のリダイレクト URI (既定: ALARMBOX_REDIRECT_URI、未設定なら urn:ietf:wg:oauth:2.0:oob)',
    )
    .action(async (opts: { code: string; redirectUri?: string }) => {
      const code = validateCode(opts.code);
      // Validate --redirect-uri with the same rules as ALARMBOX_REDIRECT_URI before anything is sent.
      const redirectUri = loadConfig(
        opts.redirectUri === undefined ? {} : { redirectUri: opts.redirectUri },
      ).redirectUri;
      await withAlarmbox(async (alarmbox) => {
        say('認可コードからトークンを取得中...');
        const saved = await saveTokenFromCode(alarmbox, code, redirectUri);
        say(`トークンを保存しました (有効期限: ${formatTime(saved.expiredAt)})`);
      });
    });
}

// The console and tests import these from here too.
export { saveTokenFromCode, validateCode };
