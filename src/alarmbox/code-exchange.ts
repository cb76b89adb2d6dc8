// The guide's step 6 as one call: check a pasted authorization code, exchange it and store the pair encrypted.
// Shared by `alarmbox save-token`, the web console and `createAlarmbox().exchangeCode()`, so that all of them tell
// a person the same thing when it fails.

import { isReasonedError } from '../failure-reason.ts';
import type { Alarmbox } from './create.ts';
import { AlarmboxTokenError } from './errors.ts';
import { withSecrets } from './operation-secrets.ts';
import { processTokenExchanges } from './token-exchanges.ts';
import type { AlarmboxToken } from './token-store.ts';

// Doorkeeper codes are 43 url-safe characters; AlarmBox's exact format is not documented, so accept any
// visible ASCII but never anything a copy-and-paste slip would add.
const CODE_CHARS = /^[\x21-\x7E]+$/;

/** Checks a pasted authorization code (`--code`) without ever echoing it; a bad one is a usage error (exit 2). */
export function validateCode(code: string): string {
  if (code.trim() === '') {
    throw usage(
      '--code が空です。alarmbox authorize-url の URL をブラウザで開き、承認後に表示された認可コードを指定してください。',
    );
  }
  if (code !== code.trim()) {
    throw usage(
      '--code の前後に空白または改行が含まれています。認可コードだけを引用符なしで貼り付け直してください (例: --code=CU8wbymH…)。',
    );
  }
  if (!CODE_CHARS.test(code)) {
    throw usage(
      '--code に使えない文字 (空白・全角文字など) が含まれています。表示された認可コードをそのまま指定してください。',
    );
  }
  if (code.length > 512) throw usage('--code が長すぎます。表示された認可コードだけを指定してください。');
  return code;
}

function usage(message: string): AlarmboxTokenError {
  return new AlarmboxTokenError(message, { reason: 'usage' });
}

/**
 * The guide's step 6: exchanges a (validated) code and stores the pair encrypted. Shared by `save-token` and
 * the web console, so that both tell a person the same thing when it fails.
 */
export function saveTokenFromCode(
  alarmbox: Pick<Alarmbox, 'client' | 'tokens'>,
  code: string,
  redirectUri: string,
): Promise<AlarmboxToken> {
  // The code, and the pair it buys, are secrets of this operation: no message or body kept from it shows them.
  return withSecrets([code], () => exchangeAndSave(alarmbox, code, redirectUri));
}

async function exchangeAndSave(
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
    const received = await client.getTokenByCode(code, redirectUri);
    // initialTokensFrom throws on an answer that cannot be stored: that, too, comes after the code was spent.
    const save = async () => tokens.saveInitialToken(tokens.initialTokensFrom(received));
    return await save().catch((error: unknown) => {
      // The code is spent now: say so, or the person retries with it and gets "invalid code" instead.
      throw new AlarmboxTokenError(
        `トークンを取得しましたが保存できませんでした (${error instanceof Error ? error.message : '原因不明'})。` +
          '認可コードは使用済みになったため、原因を取り除いてから alarmbox authorize-url で認可コードを取り直してください。',
        { reason: isReasonedError(error) ? error.reason : 'unexpected', cause: error },
      );
    });
  } finally {
    end();
  }
}
