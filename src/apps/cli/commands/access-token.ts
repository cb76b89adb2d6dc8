import type { Command } from 'commander';
import { maskToken } from '../../../text/redact.ts';
import { withAlarmbox } from '../context.ts';
import { formatRemaining, formatTime, note, say } from '../output.ts';
import { stopSafelyDuring } from '../stop-signal.ts';

export function registerAccessTokenCommand(program: Command): void {
  program
    .command('access-token')
    .description('有効なアクセストークンを取得します (期限切れなら自動更新)。既定では伏せ字で表示します')
    .option('--reveal', 'トークンそのものだけを標準出力に出します (パイプ用。画面やログに残さないでください)')
    .action(async (opts: { reveal?: boolean }) => {
      // A refresh under way is saved before a stop signal ends the process.
      await stopSafelyDuring(() =>
        withAlarmbox(async ({ tokens, store }) => {
          const accessToken = await tokens.getValidAccessToken();
          const { expiredAt } = await store.getInstance();
          if (opts.reveal === true) {
            // Like `gcloud auth print-access-token`: the bare token alone on stdout, everything else on stderr.
            note(`有効期限: ${formatTime(expiredAt)} ${formatRemaining(expiredAt)}`);
            say(accessToken);
          } else {
            say(`有効なアクセストークン: ${maskToken(accessToken)}`);
            say(`有効期限: ${formatTime(expiredAt)} ${formatRemaining(expiredAt)}`);
            say('トークンそのものが必要な場合は --reveal を付けてください。');
          }
        }),
      );
    });
}
