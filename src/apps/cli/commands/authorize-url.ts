import type { Command } from 'commander';
import { buildAuthorizeUrl } from '../../../alarmbox/authorize-url.ts';
import { parseScope } from '../../../config/config.ts';
import { loadConfig, OOB_REDIRECT_URI } from '../../../config/index.ts';
import { note, say } from '../output.ts';

export function registerAuthorizeUrlCommand(program: Command): void {
  program
    .command('authorize-url')
    .description('認可コードを取得するための URL を表示します (ガイドの Step 8-1)')
    .option(
      '--redirect-uri <uri>',
      'リダイレクト URI (既定: ALARMBOX_REDIRECT_URI、未設定なら urn:ietf:wg:oauth:2.0:oob)',
    )
    .option('--scope <scope>', 'スコープ (空白区切り、既定: ALARMBOX_SCOPE)')
    .action((opts: { redirectUri?: string; scope?: string }) => {
      const config = loadConfig({
        ...(opts.redirectUri === undefined ? {} : { redirectUri: opts.redirectUri }),
      });
      const scope = opts.scope === undefined ? config.scope : parseScope(opts.scope, '--scope');
      const url = buildAuthorizeUrl({
        baseUrl: config.baseUrl,
        clientId: config.clientId(),
        redirectUri: config.redirectUri,
        scope,
      });
      note('ブラウザで次の URL を開き、AlarmBox にログインして連携を承認してください。');
      note(
        config.redirectUri === OOB_REDIRECT_URI
          ? '承認後に画面に表示される認可コードを alarmbox save-token --code <認可コード> で保存します (有効期限 10 分・1 回限り)。'
          : `承認後 ${config.redirectUri} に付く code パラメータを alarmbox save-token --code <認可コード> --redirect-uri ${config.redirectUri} で保存します。`,
      );
      say(url);
    });
}
