import type { Command } from 'commander';
import { saveTokenFromCode, validateCode } from '../../../alarmbox/code-exchange.ts';
import { loadConfig } from '../../../config/index.ts';
import { createToolkit } from '../../../create.ts';
import { UsageError } from '../command-error.ts';
import { formatTime, say } from '../output.ts';
import { promptHidden, readSecretFromStdin } from '../read-secret.ts';
import { stopSafelyDuring } from '../stop-signal.ts';

export function registerSaveTokenCommand(program: Command): void {
  program
    .command('save-token')
    .description('認可コードからトークンを取得して、暗号化して保存します (ガイドの Step 6)')
    .option(
      '--code <code>',
      '認可コード (ブラウザで取得、10 分以内・1 回限り)。- なら標準入力から読みます。省略すると端末で入力を求めます (表示されません)',
    )
    .option(
      '--redirect-uri <uri>',
      '認可時のリダイレクト URI (既定: ALARMBOX_REDIRECT_URI、未設定なら urn:ietf:wg:oauth:2.0:oob)',
    )
    .action(async (opts: { code?: string; redirectUri?: string }) => {
      const code = validateCode(await codeFrom(opts.code));
      // Validate --redirect-uri with the same rules as ALARMBOX_REDIRECT_URI before anything is sent.
      const redirectUri = loadConfig(
        opts.redirectUri === undefined ? {} : { redirectUri: opts.redirectUri },
      ).redirectUri;
      // Once the code is sent it is spent: a stop signal waits for the pair to be saved.
      // Not withAlarmbox: its checks (database reachable, migrations applied) are part of saveTokenFromCode's,
      // which also check the key ring and row 1 and say that the code was not sent when one fails.
      await stopSafelyDuring(async () => {
        const alarmbox = createToolkit();
        try {
          say('認可コードからトークンを取得中...');
          const saved = await saveTokenFromCode(alarmbox, code, redirectUri);
          say(`トークンを保存しました (有効期限: ${formatTime(saved.expiredAt)})`);
        } finally {
          await alarmbox.close();
        }
      });
    });
}

// The console and tests import these from here too.
export { saveTokenFromCode, validateCode };

/** `--code CODE`, `--code -` (standard input) or, in a terminal, a prompt that does not echo. */
async function codeFrom(option: string | undefined): Promise<string> {
  if (option === '-') return readSecretFromStdin('認可コード');
  if (option !== undefined) return option;
  if (process.stdin.isTTY !== true) {
    throw new UsageError(
      '--code を指定してください。ps やシェルの履歴に残さないには、標準入力から渡す (例: alarmbox save-token --code - < code.txt) か、端末で --code を省略して入力してください。',
    );
  }
  return promptHidden('認可コードを貼り付けて Enter を押してください (入力は表示されません): ');
}
