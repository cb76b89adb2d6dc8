import type { Command } from 'commander';
import type { Alarmbox } from '../../alarmbox/create.ts';
import { AlarmboxTokenError } from '../../alarmbox/errors.ts';
import { processTokenExchanges } from '../../alarmbox/token-exchanges.ts';
import type { AlarmboxToken } from '../../alarmbox/token-store.ts';
import { loadConfig } from '../../config/index.ts';
import { isReasonedError } from '../../failure-reason.ts';
import { UsageError } from '../command-error.ts';
import { withAlarmbox } from '../context.ts';
import { formatTime, say } from '../output.ts';
import { promptHidden, readSecretFromStdin } from '../read-secret.ts';
import { stopSafelyOnSignal } from '../stop-signal.ts';

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
      const release = stopSafelyOnSignal();
      await withAlarmbox(async (alarmbox) => {
        say('認可コードからトークンを取得中...');
        const saved = await saveTokenFromCode(alarmbox, code, redirectUri);
        say(`トークンを保存しました (有効期限: ${formatTime(saved.expiredAt)})`);
      }).finally(release);
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
  // The code is spent once sent: shutdown waits until the pair is saved (token-exchanges.ts).
  const end = processTokenExchanges.begin();
  if (end === undefined) {
    throw new AlarmboxTokenError(
      '終了処理中のため、認可コードを送信しませんでした。もう一度実行してください。',
      {
        reason: 'temporary',
      },
    );
  }
  try {
    return await exchangeAndSave({ client, tokens }, code, redirectUri);
  } finally {
    end();
  }
}

async function exchangeAndSave(
  { client, tokens }: Pick<Alarmbox, 'client' | 'tokens'>,
  code: string,
  redirectUri: string,
): Promise<AlarmboxToken> {
  const received = await client.getTokenByCode(code, redirectUri);
  const save = async () => tokens.saveInitialToken(tokens.initialTokensFrom(received));
  return save().catch((error: unknown) => {
    // The code is spent now: say so, or the person retries with it and gets "invalid code" instead.
    throw new AlarmboxTokenError(
      `トークンを取得しましたが保存できませんでした (${error instanceof Error ? error.message : '原因不明'})。` +
        '認可コードは使用済みになったため、原因を取り除いてから alarmbox authorize-url で認可コードを取り直してください。',
      { reason: isReasonedError(error) ? error.reason : 'unexpected', cause: error },
    );
  });
}

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
