// The guide's step 6 as one call: check a pasted authorization code, exchange it and store the pair encrypted.
// Shared by `alarmbox save-token`, the web console and `createAlarmbox().exchangeCode()`, so that all of them tell
// a person the same thing when it fails.

import { messageOf, reasonOf } from '../errors.ts';
import { withSecrets } from '../text/operation-secrets.ts';
import type { AlarmboxClient } from './client.ts';
import { AlarmboxTokenError, REAUTHORIZE_STEPS } from './errors.ts';
import { processTokenExchanges } from './token-exchanges.ts';
import type { TokenService } from './token-service.ts';
import type { AlarmboxToken } from './token-store.ts';
import type { ReceivedTokens } from './types.ts';

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

/** What the exchange uses of a toolkit instance. */
interface CodeExchangeParts {
  readonly client: AlarmboxClient;
  readonly tokens: TokenService;
}

/**
 * The guide's step 6: exchanges a (validated) code and stores the pair encrypted. Shared by `save-token`,
 * `exchangeCode()` and the web console, so that all of them tell a person the same thing when it fails.
 *
 * A code is usable once (RFC 6749 §4.1.2): everything the save needs is checked before it is sent, and a pair
 * that still cannot be saved is revoked at AlarmBox (RFC 7009) rather than left valid and unknown.
 */
export function saveTokenFromCode(
  alarmbox: CodeExchangeParts,
  code: string,
  redirectUri: string,
): Promise<AlarmboxToken> {
  // The code, and the pair it buys, are secrets of this operation: no message or body kept from it shows them.
  return withSecrets([code], () => exchangeAndSave(alarmbox, code, redirectUri));
}

async function exchangeAndSave(
  { client, tokens }: CodeExchangeParts,
  code: string,
  redirectUri: string,
): Promise<AlarmboxToken> {
  // The code is spent once sent: shutdown waits until the pair is saved (token-exchanges.ts).
  const end = processTokenExchanges.begin();
  if (end === undefined) throw stopping();
  try {
    // Key ring, database, migrations, a rolled-back write of row 1: a failure here leaves the code unused.
    await tokens.prepareSave().catch((error: unknown) => {
      throw notSent(error);
    });
    // A stop that arrived during the checks: nothing is sent yet, so nothing can be lost.
    if (processTokenExchanges.closed) throw stopping();
    const received = await client.getTokenByCode(code, redirectUri);
    try {
      // initialTokensFrom throws on an answer that cannot be stored: that, too, comes after the code was spent.
      return await tokens.saveInitialToken(tokens.initialTokensFrom(received));
    } catch (error) {
      throw await unsaved(client, received, error);
    }
  } finally {
    end();
  }
}

/** Shutdown has begun (a signal): the code is not sent, so it stays usable. */
function stopping(): AlarmboxTokenError {
  const message = '終了処理中のため、認可コードを送信しませんでした。もう一度実行してください。';
  return new AlarmboxTokenError(message, { reason: 'temporary' });
}

/** A check before the exchange failed: its own reason and words, and that the code is still good. */
function notSent(error: unknown): AlarmboxTokenError {
  return new AlarmboxTokenError(
    `${NOT_SENT}。トークンを保存できない原因があります: ${sentence(messageOf(error))}` +
      '原因を取り除いてから、同じ認可コードでもう一度実行してください (docs/troubleshooting.md「認可コードは未使用です」)。',
    { reason: reasonOf(error), cause: error },
  );
}

/** `text` ending in 。 so that the next sentence can follow. */
function sentence(text: string): string {
  return /[。.]$/.test(text) ? text : `${text}。`;
}

const NOT_SENT =
  '認可コードは未使用です: 保存の準備ができていないため、AlarmBox に送信しませんでした (発行から 10 分以内なら同じコードを使えます)';

/**
 * The pair was issued but not saved (the database went away after the checks, an answer without a refresh
 * token): revoke it, since no one will ever hold it, and say whether that worked. Doorkeeper revokes the whole
 * pair given either token (RFC 7009 §2.1); the refresh token is the one that would outlive the access token.
 */
async function unsaved(
  client: Pick<AlarmboxClient, 'revokeToken'>,
  received: ReceivedTokens,
  error: unknown,
): Promise<AlarmboxTokenError> {
  const r = received.response;
  const [token, hint] =
    r.refresh_token !== undefined && r.refresh_token !== ''
      ? [r.refresh_token, 'refresh_token' as const]
      : [r.access_token, 'access_token' as const];
  let revoked: string;
  if (token === '') {
    revoked = 'AlarmBox の応答に失効させるトークンがありませんでした。';
  } else {
    try {
      await client.revokeToken(token, hint);
      revoked = '発行されたトークンは AlarmBox で失効させました (POST /oauth/revoke)。';
    } catch (revokeError) {
      revoked =
        `発行されたトークンを AlarmBox で失効させることもできませんでした (${messageOf(revokeError)})。` +
        'このトークンはどこにも保存されず誰にも渡していませんが、AlarmBox 上では有効なまま残ります。';
    }
  }
  // The code is spent now: say so, or the person retries with it and gets "invalid code" instead.
  return new AlarmboxTokenError(
    `トークンを取得しましたが保存できませんでした (${messageOf(error)})。${revoked}` +
      `認可コードは使用済みになったため、原因を取り除いてから、${REAUTHORIZE_STEPS}` +
      ' (docs/troubleshooting.md「トークンを取得しましたが保存できませんでした」)。',
    { reason: reasonOf(error), cause: error },
  );
}
