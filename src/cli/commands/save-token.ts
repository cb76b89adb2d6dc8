import type { Command } from 'commander';
import type { Alarmbox } from '../../alarmbox/create.ts';
import { AlarmboxTokenError } from '../../alarmbox/errors.ts';
import type { AlarmboxToken } from '../../alarmbox/token-store.ts';
import { loadConfig } from '../../config/index.ts';
import { isReasonedError } from '../../failure-reason.ts';
import { UsageError } from '../command-error.ts';
import { withAlarmbox } from '../context.ts';
import { formatTime, say } from '../output.ts';

// Doorkeeper codes are 43 url-safe characters; AlarmBox's exact format is not documented, so accept any
// visible ASCII but never anything a copy-and-paste slip would add.
const CODE_CHARS = /^[\x21-\x7E]+$/;

/** Checks `--code` without ever echoing it. */
export function validateCode(code: string): string {
  if (code.trim() === '') {
    throw new UsageError(
      '--code が空です。alarmbox authorize-url の URL をブラウザで開き、承認後に表示された認可コードを指定してください。',
    );
  }
  if (code !== code.trim()) {
    throw new UsageError(
      '--code の前後に空白または改行が含まれています。認可コードだけを引用符なしで貼り付け直してください (例: --code=CU8wbymH…)。',
    );
  }
  if (!CODE_CHARS.test(code)) {
    throw new UsageError(
      '--code に使えない文字 (空白・全角文字など) が含まれています。表示された認可コードをそのまま指定してください。',
    );
  }
  if (code.length > 512)
    throw new UsageError('--code が長すぎます。表示された認可コードだけを指定してください。');
  return code;
}

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

/**
 * The guide's step 6: exchanges a (validated) code and stores the pair encrypted. Shared by `save-token` and
 * the web console, so that both tell a person the same thing when it fails.
 */
export async function saveTokenFromCode(
  { client, tokens }: Pick<Alarmbox, 'client' | 'tokens'>,
  code: string,
  redirectUri: string,
): Promise<AlarmboxToken> {
  const received = await client.getTokenByCode(code, redirectUri);
  return tokens.saveInitialToken(tokens.initialTokensFrom(received)).catch((error: unknown) => {
    // The code is spent now: say so, or the person retries with it and gets "invalid code" instead.
    throw new AlarmboxTokenError(
      `トークンを取得しましたが保存できませんでした (${error instanceof Error ? error.message : '原因不明'})。` +
        '認可コードは使用済みになったため、原因を取り除いてから alarmbox authorize-url で認可コードを取り直してください。',
      { reason: isReasonedError(error) ? error.reason : 'unexpected', cause: error },
    );
  });
}
