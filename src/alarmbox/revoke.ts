// Ending the integration (`alarmbox revoke`, the console's 連携を解除): the stored pair is revoked at AlarmBox
// (RFC 7009), then row 1 is deleted, both under the token refresh lease (TokenService.LOCK_NAME) so that no
// refresh rotates the pair in between (a pair issued by a refresh after our read would be left valid and stored).
// A revocation that AlarmBox did not confirm deletes nothing: the row is what a second attempt revokes with.
// Only a person's explicit `localOnly` deletes the row without AlarmBox, and says what that leaves valid.
import { AlarmboxError, messageOf, reasonOf } from '../errors.ts';
import type { LockManager } from '../lock/index.ts';
import { reportSecondaryFailure } from '../secondary-failure.ts';
import { withSecrets } from '../text/operation-secrets.ts';
import type { AlarmboxClient } from './client.ts';
import {
  AlarmboxAPIError,
  AlarmboxTokenNotFoundError,
  REAUTHORIZE_STEPS,
  tokenNotFoundMessage,
} from './errors.ts';
import type { HistoryRecord, RevocationOutcome } from './refresh-history.ts';
import { processTokenExchanges } from './token-exchanges.ts';
import type { AlarmboxToken, AlarmboxTokenStore } from './token-store.ts';

/** What a revocation needs of the toolkit (src/create.ts wires it). */
export interface RevocationDeps {
  readonly store: AlarmboxTokenStore;
  /** Created only for a revocation at AlarmBox: a local one must work without the client secret. */
  readonly client: () => AlarmboxClient;
  /** The lease TokenService.LOCK_NAME, the one every refresh takes. */
  readonly lock: LockManager;
  readonly lockWaitMs: number;
  /** Writes the revocation into the refresh history. */
  readonly record: (entry: HistoryRecord) => Promise<void>;
}

/** Options of {@link revokeStoredTokens}. */
export interface RevokeOptions {
  /** Delete row 1 without asking AlarmBox (AlarmBox cannot be reached, or no longer knows the client). */
  readonly localOnly?: boolean | undefined;
  /** How the caller's person asks for `localOnly` (`--local-only を付けて実行してください`), for failure messages. */
  readonly localOnlyHint: string;
}

/** What was done, for the CLI and the console to say. Never carries a token. */
export interface RevocationResult {
  readonly outcome: RevocationOutcome;
  /** Japanese lines for the person: what was done and, for a local one, what may still be valid. */
  readonly lines: readonly string[];
}

const AGAIN = `もう一度連携するには、${REAUTHORIZE_STEPS} (コンソールなら「AlarmBox と連携」)。`;

const REVOKED: RevocationResult = {
  outcome: 'revoked',
  lines: [
    'AlarmBox でトークンを失効させ (POST /oauth/revoke)、保存済みのトークンを削除しました。この連携のトークンはもう使えません。',
    AGAIN,
  ],
};

const REVOKED_LOCALLY: RevocationResult = {
  outcome: 'revoked_locally',
  lines: [
    '保存済みのトークンを削除しました。AlarmBox には失効を依頼していません (ローカルのみ)。',
    '注意: AlarmBox 側ではトークンがまだ有効な可能性があります (アクセストークンは有効期限まで、リフレッシュトークンは失効させるまで)。' +
      '削除したトークンはもう手元にないため、このツールからは失効させられません。漏えいが疑われる場合は、AlarmBox の API 管理画面でアプリの設定を確認するか、AlarmBox に問い合わせてください。',
    AGAIN,
  ],
};

const HISTORY_MESSAGES: Readonly<Record<RevocationOutcome, string>> = {
  revoked: '連携を解除しました: AlarmBox で失効させ、保存済みのトークンを削除しました',
  revoked_locally:
    '連携を解除しました (ローカルのみ): 保存済みのトークンを削除しました。AlarmBox には失効を依頼していません',
};

/**
 * Revokes the stored pair at AlarmBox and deletes row 1 (or, with `localOnly`, only deletes it), under the
 * token refresh lease.
 * @throws AlarmboxTokenNotFoundError (`not_registered`) when nothing is stored; with row 1 kept, the revocation's
 *   failure (`temporary`, `client_configuration`, `configuration`, `stored_data_invalid`, …), LockWaitTimeoutError
 *   (`lock_timeout`) or the database's error
 */
export async function revokeStoredTokens(
  deps: RevocationDeps,
  options: RevokeOptions,
): Promise<RevocationResult> {
  const startedAt = new Date();
  const localOnly = options.localOnly === true;
  const lease = await deps.lock.acquire({ waitMs: deps.lockWaitMs });
  // Until the row is deleted a stop signal waits (stop-signal.ts): a pair revoked and still stored only costs a
  // rerun, but a person should hear the outcome of a revocation that was sent.
  const end = processTokenExchanges.begin();
  try {
    if (end === undefined) throw stopping();
    const seen = await deps.store.getInstance();
    if (!seen.isRegistered) {
      throw new AlarmboxTokenNotFoundError(tokenNotFoundMessage(deps.store.describeDatabase()));
    }
    if (!localOnly) await revokeAtAlarmbox(deps, seen, options.localOnlyHint);
    await deleteRow(deps.store, seen, localOnly);
  } finally {
    end?.();
    await lease.release().catch((error: unknown) => reportSecondaryFailure('更新のリースの解放', error));
  }
  const result = localOnly ? REVOKED_LOCALLY : REVOKED;
  await deps
    .record({
      trigger: 'manual',
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
      outcome: result.outcome,
      message: HISTORY_MESSAGES[result.outcome],
    })
    .catch((error: unknown) => reportSecondaryFailure('連携の解除の記録 (更新履歴)', error));
  return result;
}

/**
 * Both tokens of the pair, the refresh token first (the long-lived one). RFC 7009 §2.1 leaves the other token to
 * the server's policy: revoking a refresh token SHOULD also invalidate the access tokens of its grant, revoking an
 * access token MAY revoke its refresh token. Doorkeeper revokes the pair given either, but sending both makes the
 * outcome independent of that policy; a token already revoked is answered 200 (§2.2), so the second costs
 * nothing there.
 */
async function revokeAtAlarmbox(deps: RevocationDeps, seen: AlarmboxToken, hint: string): Promise<void> {
  let pair: { access: string; refresh: string };
  let client: AlarmboxClient;
  try {
    pair = { refresh: seen.getDecryptedRefreshToken(), access: seen.getDecryptedAccessToken() };
    client = deps.client();
  } catch (error) {
    // The key ring lacks the row's key, or the client credentials are not configured: nothing was sent.
    throw kept(error, 'AlarmBox に失効を依頼できませんでした', hint);
  }
  await withSecrets([pair.refresh, pair.access], async () => {
    try {
      await client.revokeToken(pair.refresh, 'refresh_token');
    } catch (error) {
      throw kept(error, 'AlarmBox でトークンを失効させられませんでした', hint);
    }
    try {
      await client.revokeToken(pair.access, 'access_token');
    } catch (error) {
      throw kept(
        error,
        'リフレッシュトークンは AlarmBox で失効させましたが、アクセストークンの失効を確認できませんでした (もう一度実行すると残りを失効させて削除します)',
        hint,
      );
    }
  });
}

/** A failure before the row was touched: the row is kept, and the message says so and how to go on. */
function kept(error: unknown, what: string, hint: string): AlarmboxError {
  const message =
    `連携を解除できませんでした: ${what}。${messageOf(error)} ` +
    '保存済みのトークンは削除せずに残しています。原因を直してからもう一度実行してください。' +
    `AlarmBox での失効をあきらめて保存済みのトークンだけを削除するには、${hint} (AlarmBox 側のトークンは有効なまま残ることがあります)。`;
  if (!(error instanceof AlarmboxAPIError)) {
    // Our own messages (a key missing from the ring, a client secret not set) are safe as they are: scrubbing
    // them again would hide the example values they quote.
    return new AlarmboxError(message, { reason: reasonOf(error), cause: error });
  }
  return new AlarmboxAPIError(message, {
    reason: error.reason,
    statusCode: error.statusCode,
    responseBody: error.responseBody,
    oauthError: error.oauthError,
    cause: error,
  });
}

/**
 * Deletes row 1 if it still holds the pair revoked. `save-token` takes no lease: a pair it saved meanwhile is a
 * new registration, not ours to delete.
 */
async function deleteRow(store: AlarmboxTokenStore, seen: AlarmboxToken, localOnly: boolean): Promise<void> {
  if (await store.deleteIfUnchanged(seen)) return;
  const after = await store.getInstance();
  // Deleted by someone else meanwhile (a hand-run DELETE): what was asked for is done.
  if (!after.isRegistered) return;
  throw new AlarmboxAPIError(
    `${localOnly ? '' : 'AlarmBox でトークンを失効させましたが、'}${store.describeRow()} はその間に別のトークンで保存し直されていたため (alarmbox save-token など)、削除しませんでした。` +
      '新しいトークンも解除するには、もう一度実行してください。',
    { reason: 'temporary' },
  );
}

/** A stop signal or close() came first: nothing was sent or deleted. */
function stopping(): AlarmboxAPIError {
  return new AlarmboxAPIError(
    '連携の解除を始めませんでした: 終了処理中です (シグナルまたは close())。AlarmBox には何も送らず、保存済みのトークンもそのままです。',
    { reason: 'temporary' },
  );
}
