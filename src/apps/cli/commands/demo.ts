import type { Command } from 'commander';
import { buildAuthorizeUrl } from '../../../alarmbox/authorize-url.ts';
import type { Toolkit } from '../../../create.ts';
import { migrateToLatest } from '../../../db/migrate.ts';
import type { RunningEmulator } from '../../../emulator/index.ts';
import { ExitCode } from '../../../exit-codes.ts';
import { maskToken } from '../../../text/redact.ts';
import { openSandbox } from '../../sandbox/sandbox.ts';
import { formatRemaining, formatTime, say } from '../output.ts';

/** A check of the demo: it either holds, or the demo ends with exit code 1. */
class DemoCheckFailed extends Error {
  override readonly name = 'DemoCheckFailed';
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new DemoCheckFailed(what);
  say(`  ✓ ${what}`);
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      '内蔵エミュレータ・一時データベース・一時キーでガイドの Step 8 (動作確認) を最初から最後まで実行します',
    )
    .action(async () => {
      process.exitCode = await runDemo();
    });
}

/** The guide's step 8, end to end, against an embedded emulator. Resolves to the exit code. */
export async function runDemo(): Promise<number> {
  const sandbox = await openSandbox({ prefix: 'alarmbox-demo-', emulator: { autoApprove: true } });
  const { alarmbox, emulator } = sandbox;
  try {
    await steps(alarmbox, emulator);
    say('');
    say(
      'すべての確認に成功しました。実際の AlarmBox で試す手順は README「本物の AlarmBox で試す」を参照してください。',
    );
    return ExitCode.ok;
  } catch (error) {
    if (!(error instanceof DemoCheckFailed)) throw error;
    say(`  ✗ ${error.message}`);
    say('デモの確認に失敗しました。');
    return ExitCode.unexpected;
  } finally {
    await sandbox.close();
  }
}

async function steps(alarmbox: Toolkit, emulator: RunningEmulator): Promise<void> {
  const { tokens, store, config } = alarmbox;
  say(`AlarmBox エミュレータを起動しました: ${emulator.url}`);
  say(
    `一時データベース: ${config.database.dialect === 'sqlite' ? config.database.file : config.database.dialect}`,
  );
  const { applied } = await migrateToLatest(alarmbox.database);
  check(applied.length > 0, `Step 2: マイグレーションを実行しました (${applied.join(', ')})`);

  say('');
  say('Step 8-1: 認可コードを取得');
  const url = buildAuthorizeUrl({
    baseUrl: config.baseUrl,
    clientId: config.clientId(),
    redirectUri: config.redirectUri,
    scope: config.scope,
  });
  say(`  ブラウザで開く URL: ${url}`);
  const code = await approveLikeABrowser(url);
  check(
    code !== undefined,
    `エミュレータで承認し、画面に表示された認可コードを受け取りました: ${maskToken(code ?? '')}`,
  );

  say('');
  say('Step 8-2: トークンを取得 & 保存 (alarmbox save-token --code …)');
  say('  認可コードからトークンを取得中...');
  const received = await alarmbox.client.getTokenByCode(code ?? '');
  const saved = await tokens.saveInitialToken(tokens.initialTokensFrom(received));
  check(saved.isRegistered, `トークンを保存しました (有効期限: ${formatTime(saved.expiredAt)})`);

  say('');
  say('Step 8-3: トークン取得を確認 (TokenService.getValidAccessToken)');
  const first = await tokens.getValidAccessToken();
  check(
    first === received.response.access_token,
    `保存したトークンを復号して取得しました: ${maskToken(first)}`,
  );

  say('');
  say('Step 8-4: トークン更新を確認 (強制的に期限切れにする → 自動更新)');
  await store.markExpired();
  const expired = await store.getInstance();
  say(`  期限切れにしました: ${formatRemaining(expired.expiredAt)}`);
  const refreshCount = () => emulator.stats().tokenRequests.refresh_token.ok ?? 0;
  const before = refreshCount();
  const second = await tokens.getValidAccessToken();
  const refreshes = refreshCount() - before;
  check(
    second !== first && refreshes === 1,
    `自動で更新され、新しいトークンを取得しました: ${maskToken(second)} (更新リクエスト ${refreshes} 回)`,
  );
  const third = await tokens.getValidAccessToken();
  check(third === second, '続けて取得すると更新せずに同じトークンを返しました');

  say('');
  say('状態の確認 (alarmbox status)');
  const now = await store.getInstance();
  say(
    `  登録状況: ${now.isRegistered ? '登録済み' : '未登録'} / 有効期限: ${formatTime(now.expiredAt)} ${formatRemaining(now.expiredAt)}`,
  );
  check(
    now.lastRefreshOutcome === 'ok' && now.version === 2,
    `最後の更新: ${formatTime(now.lastRefreshAt)} [${now.lastRefreshOutcome}]`,
  );

  await callApi(emulator, second, first);
}

/** The guide's API call with the refreshed token; the token it replaced no longer works. */
async function callApi(emulator: RunningEmulator, second: string, first: string): Promise<void> {
  say('');
  say('新しいトークンで API を呼び出し (POST /ps/v1/credit_checks, 法人番号 0000000000001)');
  const response = await fetch(new URL('/ps/v1/credit_checks', emulator.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${second}`, 'content-type': 'application/json' },
    body: JSON.stringify({ corporation_number: '0000000000001' }),
  });
  const body = (await response.json()) as { credit_check?: { result?: string } };
  check(
    response.status === 200 && body.credit_check?.result === 'ok',
    `HTTP ${response.status}、与信判定: ${body.credit_check?.result ?? '(なし)'}`,
  );
  const old = await fetch(new URL('/oauth/token/info', emulator.url), {
    headers: { authorization: `Bearer ${first}` },
  });
  check(old.status === 401, `新しいトークンを使ったので、古いトークンは失効しました (HTTP ${old.status})`);
}

/** Plays the browser: with auto-approve the authorize URL redirects straight to the OOB page with the code. */
async function approveLikeABrowser(url: string): Promise<string | undefined> {
  const authorize = await fetch(url, { redirect: 'manual' });
  const location = authorize.headers.get('location');
  if (location === null) return undefined;
  const page = await fetch(new URL(location, url));
  const html = await page.text();
  return /<code id="authorization_code">([^<]+)<\/code>/.exec(html)?.[1];
}
