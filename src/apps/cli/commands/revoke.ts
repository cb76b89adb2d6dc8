import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { AlarmboxTokenNotFoundError, tokenNotFoundMessage } from '../../../alarmbox/errors.ts';
import type { RevocationResult } from '../../../alarmbox/revoke.ts';
import { describeTarget } from '../../../db/url.ts';
import { UsageError } from '../command-error.ts';
import { withAlarmbox } from '../context.ts';
import { note, say, sayJson } from '../output.ts';
import { stopSafelyDuring } from '../stop-signal.ts';

interface RevokeCliOptions {
  readonly yes?: boolean;
  readonly localOnly?: boolean;
  readonly json?: boolean;
}

/** What `revoke --json` prints: no token, no secret. */
export interface RevokeReport {
  /** Always false afterwards: row 1 is deleted (`status` shows 未登録). */
  readonly registered: false;
  /** `revoked`: revoked at AlarmBox and deleted; `revoked_locally`: deleted only (`--local-only`). */
  readonly outcome: RevocationResult['outcome'];
  /** Whether AlarmBox confirmed the revocation (false with `--local-only`: the tokens may still be valid there). */
  readonly revokedAtAlarmbox: boolean;
  readonly messages: readonly string[];
  readonly baseUrl: string;
  readonly database: string;
}

const LOCAL_ONLY_HINT = '--local-only を付けて実行してください';

export function registerRevokeCommand(program: Command): void {
  program
    .command('revoke')
    .description(
      '連携を解除します: 保存済みのトークンを AlarmBox で失効させ (POST /oauth/revoke)、データベースから削除します (トークンの漏えい・連携の廃止に)',
    )
    .option('--yes', '確認せずに実行します (端末以外から実行するときは必須)')
    .option(
      '--local-only',
      'AlarmBox には失効を依頼せず、保存済みのトークンを削除するだけにします (AlarmBox に届かないとき用。AlarmBox 側ではトークンが有効なまま残ることがあります)',
    )
    .option('--json', '結果を JSON で出力します (トークンは含みません)')
    .addHelpText(
      'after',
      '\nAlarmBox での失効に失敗したときは何も削除せず、理由を表示して終了します (後で再実行できます)。' +
        '\n終了コード: 0 解除した / 2 設定・入力の誤り、確認で中止 / 3 トークン未登録 / 5 一時的な失敗 (AlarmBox に届かない・5xx・ほかのプロセスが更新中。トークンは残っています)',
    )
    .action(revoke);
}

async function revoke(opts: RevokeCliOptions): Promise<void> {
  const localOnly = opts.localOnly === true;
  // Asked before anything is opened: a script without --yes learns it at once, whatever the database says.
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
  if (opts.yes !== true && !interactive) {
    throw new UsageError(
      '連携の解除には確認が必要です。端末以外 (スクリプト・ジョブ) から実行するときは --yes を付けてください (例: alarmbox revoke --yes)。',
    );
  }
  // A revocation under way finishes (the row is deleted) before a stop signal ends the process.
  await stopSafelyDuring(() =>
    withAlarmbox(async (alarmbox) => {
      const { store, config, database } = alarmbox;
      // Not registered: the usual message and exit 3, before asking anything.
      if (!(await store.getInstance()).isRegistered) {
        throw new AlarmboxTokenNotFoundError(tokenNotFoundMessage(store.describeDatabase()));
      }
      if (opts.yes !== true) await confirm(localOnly, config.baseUrl, describeTarget(database.target));
      const result = await alarmbox.revoke({ localOnly, localOnlyHint: LOCAL_ONLY_HINT });
      if (opts.json === true) {
        const report: RevokeReport = {
          registered: false,
          outcome: result.outcome,
          revokedAtAlarmbox: result.outcome === 'revoked',
          messages: result.lines,
          baseUrl: config.baseUrl,
          database: describeTarget(database.target),
        };
        sayJson(report);
      } else {
        for (const line of result.lines) say(line);
      }
    }),
  );
}

/** Asks on the terminal (stderr, so that `--json` output stays clean); anything but y / yes cancels. */
async function confirm(localOnly: boolean, baseUrl: string, database: string): Promise<void> {
  note(
    localOnly
      ? `保存済みのトークンを ${database} から削除します。AlarmBox (${baseUrl}) には失効を依頼しないため、AlarmBox 側ではトークンが有効なまま残ることがあります。`
      : `保存済みのトークンを AlarmBox (${baseUrl}) で失効させ、${database} から削除します。この連携を使うアプリ・ジョブは、もう一度連携するまで AlarmBox API を呼べなくなります。`,
  );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const cancel = new AbortController();
  // Ctrl-C or Ctrl-D at the prompt cancels, as in save-token's.
  rl.on('SIGINT', () => cancel.abort());
  rl.on('close', () => cancel.abort());
  let answer = '';
  try {
    answer = await rl.question('連携を解除しますか? [y/N]: ', { signal: cancel.signal });
  } catch {
    answer = '';
  } finally {
    rl.close();
  }
  if (!/^\s*(?:y|yes)\s*$/i.test(answer)) {
    throw new UsageError('連携の解除を中止しました。何も変更していません。');
  }
}
