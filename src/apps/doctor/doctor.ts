// `alarmbox doctor`: checks, one after the other, everything the toolkit depends on, and says for each failure
// how to fix it. Nothing is changed and nothing is spent: the token endpoint is probed with a dummy
// authorization code, which AlarmBox (Doorkeeper) rejects after authenticating the client.

import { REAUTHORIZE_STEPS } from '../../alarmbox/errors.ts';
import { RefreshHistory } from '../../alarmbox/refresh-history.ts';
import { envelopeKeyId } from '../../alarmbox/rekey.ts';
import { TokenService } from '../../alarmbox/token-service.ts';
import { AlarmboxTokenStore } from '../../alarmbox/token-store.ts';
import type { ClientCredentials } from '../../config/client-info.ts';
import type { AlarmboxConfig, AlarmboxOptions } from '../../config/config.ts';
import { loadConfig } from '../../config/config.ts';
import type { ProxyRoute } from '../../config/proxy.ts';
import type { KeyRing } from '../../crypto/index.ts';
import { describeConnectedServer } from '../../db/connected-server.ts';
import type { DatabaseHandle } from '../../db/connection.ts';
import { openDatabase } from '../../db/connection.ts';
import { DatabaseUnavailableError } from '../../db/errors.ts';
import { assertMigrated } from '../../db/migrate.ts';
import { LOCKS_TABLE, TOKENS_TABLE } from '../../db/schema.ts';
import { DatabaseTlsError } from '../../db/tls-errors.ts';
import { describeTarget } from '../../db/url.ts';
import { errorCode } from '../../error-code.ts';
import { messageOf, reasonOf } from '../../errors.ts';
import { exitCodeFor } from '../../exit-codes.ts';
import type { FailureReason } from '../../failure-reason.ts';
import { OutgoingRequestError } from '../../http/errors.ts';
import { type FetchLike, type OutgoingFetch, outgoingFetch } from '../../http/fetch.ts';
import { type InspectedLease, inspectLeases, isoOfDbTime, MAX_LEASE_MS } from '../../lock/index.ts';
import { maskToken } from '../../text/redact.ts';
import { formatRemaining, formatTime } from '../format-time.ts';

/** Every check, in the order doctor makes them, and its title. */
const TITLES = {
  config: '設定',
  credentials: 'クライアント情報',
  'encryption-keys': '暗号化キー',
  database: 'データベース接続',
  migrations: 'マイグレーション',
  lease: 'トークン更新のロック',
  'stored-token': '保存済みトークン',
  'token-endpoint': 'トークンエンドポイント',
  clock: '時刻のずれ',
} as const;

export type CheckId = keyof typeof TITLES;

export interface DoctorCheck {
  readonly id: CheckId;
  readonly title: string;
  /** `skipped`: a check it depends on failed, so it could not be made. */
  readonly status: 'ok' | 'fail' | 'skipped';
  readonly detail: string;
  /** For a failure: what to do. */
  readonly fix?: string | undefined;
  readonly reason?: FailureReason | undefined;
  /** Things worth knowing that are not failures (a row under an old key, recent failed refreshes). */
  readonly notes?: readonly string[] | undefined;
}

export interface DoctorReport {
  readonly ok: boolean;
  /** 0, or the documented exit code of the first failed check. */
  readonly exitCode: number;
  readonly checks: readonly DoctorCheck[];
}

export interface DoctorOptions {
  readonly options?: AlarmboxOptions;
  /** Largest accepted difference to AlarmBox's clock (default 60 s). */
  readonly clockToleranceMs?: number;
}

const REAUTHORIZE_FIX = `${REAUTHORIZE_STEPS}。`;
/** A query that failed after the connection and the tables were there. */
const RERUN_FIX = 'データベースの状態を確認し、もう一度 alarmbox doctor を実行してください。';
const PROBE_CODE = 'alarmbox-doctor-probe';
const DEFAULT_CLOCK_TOLERANCE_MS = 60_000;

export async function runDoctor(doctorOptions: DoctorOptions = {}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const r = recorders(checks);
  const loaded = checkConfig(doctorOptions.options, r);
  if (loaded === undefined) {
    for (const id of Object.keys(TITLES) as CheckId[])
      if (id !== 'config') r.skip(id, '設定に誤りがあるため確認していません');
    return finish(checks);
  }
  const { config, outgoing } = loaded;
  const credentials = checkCredentials(config, r);
  const ring = checkKeyRing(config, r);

  // Database, migrations, leases, the stored row. Doctor only looks: a SQLite path that does not exist is
  // reported, never created.
  const database = openDatabase(config.database, {
    ...config.databaseTimeouts,
    poolSize: 1,
  });
  try {
    await checkDatabase(database, ring, r);
  } finally {
    await database.close();
  }

  if (credentials === undefined) {
    r.skip('token-endpoint', 'クライアント情報が設定されていないため確認していません');
    r.skip('clock', 'トークンエンドポイントを確認できなかったため確認していません');
  } else {
    const toleranceMs = doctorOptions.clockToleranceMs ?? DEFAULT_CLOCK_TOLERANCE_MS;
    await checkTokenEndpoint(config, outgoing.fetch, credentials, toleranceMs, r);
  }
  return finish(checks);
}

interface Recorders {
  ok(id: CheckId, detail: string, notes?: string[]): void;
  fail(id: CheckId, error: unknown, fix: string, reason?: FailureReason): void;
  skip(id: CheckId, why: string): void;
}

function recorders(checks: DoctorCheck[]): Recorders {
  return {
    ok: (id, detail, notes) =>
      checks.push({ id, title: TITLES[id], status: 'ok', detail, notes: notes?.length ? notes : undefined }),
    fail: (id, error, fix, reason) =>
      checks.push({
        id,
        title: TITLES[id],
        status: 'fail',
        detail: typeof error === 'string' ? error : messageOf(error),
        fix,
        reason: reason ?? reasonOf(error),
      }),
    skip: (id, why) => checks.push({ id, title: TITLES[id], status: 'skipped', detail: why }),
  };
}

/** Everything that is read at start-up, and the way out to AlarmBox (direct or through a proxy). */
function checkConfig(
  options: AlarmboxOptions | undefined,
  r: Recorders,
): { config: AlarmboxConfig; outgoing: OutgoingFetch } | undefined {
  try {
    const config = loadConfig(options);
    // The same decision as every request's (src/http/fetch.ts); a malformed proxy URL fails here.
    const outgoing = outgoingFetch(config.baseUrl, config.fetch);
    r.ok(
      'config',
      `ALARMBOX_ENV=${config.env} / AlarmBox ${config.baseUrl} / データベース ${describeTarget(config.database)} / ${proxyLine(outgoing.route, config.baseUrl)}`,
    );
    return { config, outgoing };
  } catch (error) {
    r.fail('config', error, 'メッセージに示された環境変数 (または .env) を直してください。');
    return undefined;
  }
}

/** The client credentials (not a secret: the id is shown masked, the secret never). */
function checkCredentials(config: AlarmboxConfig, r: Recorders): ClientCredentials | undefined {
  try {
    const credentials = config.credentials();
    r.ok('credentials', `client_id ${maskToken(credentials.clientId)}、client_secret 設定済み`);
    return credentials;
  } catch (error) {
    r.fail(
      'credentials',
      error,
      'AlarmBox の API 管理画面で発行された client_id / client_secret を ALARMBOX_CLIENT_ID / ALARMBOX_CLIENT_SECRET (または ALARMBOX_INFO) に設定してください。',
    );
    return undefined;
  }
}

function checkKeyRing(config: AlarmboxConfig, r: Recorders): KeyRing | undefined {
  try {
    const ring = config.keyRing();
    const [first, ...rest] = ring.ids;
    r.ok(
      'encryption-keys',
      `鍵リング: ${first} (暗号化に使用)${rest.length > 0 ? `、${rest.join(', ')} (復号のみ)` : ''}`,
    );
    return ring;
  } catch (error) {
    r.fail(
      'encryption-keys',
      error,
      'ALARMBOX_ENCRYPTION_KEYS を「キーID:32バイトのbase64」で設定してください (例: k1:$(openssl rand -base64 32) の出力)。すべてのインスタンスで同じ値にします。',
    );
    return undefined;
  }
}

async function checkDatabase(
  database: DatabaseHandle,
  ring: KeyRing | undefined,
  r: Recorders,
): Promise<void> {
  if (!(await checkConnection(database, r))) {
    for (const id of ['migrations', 'lease', 'stored-token'] as const)
      r.skip(id, 'データベースに接続できないため確認していません');
    return;
  }
  try {
    await assertMigrated(database);
    r.ok('migrations', 'すべて適用済みです');
  } catch (error) {
    r.fail('migrations', error, 'alarmbox migrate を実行してください (何度実行しても安全です)。');
    r.skip('lease', 'テーブルがないため確認していません');
    r.skip('stored-token', 'テーブルがないため確認していません');
    return;
  }
  await checkLeases(database, r);
  if (ring === undefined) {
    r.skip('stored-token', '暗号化キーが読めないため確認していません');
    return;
  }
  await checkStoredToken(database, ring, r);
}

/** Whether the database answers; the failure names the likeliest fix for what went wrong. */
async function checkConnection(database: DatabaseHandle, r: Recorders): Promise<boolean> {
  try {
    await database.ping();
    const server = database.connectedServer();
    r.ok(
      'database',
      server === undefined
        ? `${describeTarget(database.target)} に接続できました`
        : `${describeConnectedServer(server)} に接続できました`,
    );
  } catch (error) {
    const temporary = reasonOf(error) === 'temporary';
    const missingFile = error instanceof DatabaseUnavailableError && error.code === 'SQLITE_NOT_FOUND';
    // The message already names the certificate problem and its fix (src/db/tls-errors.ts).
    const tls = error instanceof DatabaseTlsError;
    r.fail(
      'database',
      error,
      tls
        ? 'DATABASE_URL の TLS の設定 (sslmode / ssl-mode と CA 証明書のファイル) とサーバーの証明書を確認してください。'
        : missingFile
          ? 'alarmbox migrate を実行してデータベースを作成するか、DATABASE_URL のパスを既存のファイルに直してください。'
          : temporary
            ? 'データベースが起動しているか、DATABASE_URL のホスト・ポートとネットワーク (ファイアウォール、Cloud SQL の接続設定) を確認してください。'
            : 'DATABASE_URL のユーザー・パスワード・データベース名 (SQLite ならファイルのパスと権限) を確認してください。',
    );
    return false;
  }
  return true;
}

/** The stored pair: registered, readable with the key ring, and not refused by AlarmBox at the last refresh. */
async function checkStoredToken(database: DatabaseHandle, ring: KeyRing, r: Recorders): Promise<void> {
  try {
    const token = await new AlarmboxTokenStore(database, () => ring).getInstance();
    if (!token.isRegistered) {
      r.fail('stored-token', 'トークンが登録されていません。', REAUTHORIZE_FIX, 'not_registered');
      return;
    }
    const raw = await (await database.open())
      .selectFrom(TOKENS_TABLE)
      .select(['access_token', 'refresh_token'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    const keyIds = [
      ...new Set([envelopeKeyId(raw.access_token) ?? '?', envelopeKeyId(raw.refresh_token) ?? '?']),
    ];
    try {
      token.getDecryptedAccessToken();
      token.getDecryptedRefreshToken();
    } catch (error) {
      r.fail(
        'stored-token',
        error,
        `トークンを暗号化したキー (キー ID: ${keyIds.join(', ')}) を ALARMBOX_ENCRYPTION_KEYS に戻すか、再認可してください (${REAUTHORIZE_STEPS})。`,
      );
      return;
    }
    if (token.lastRefreshOutcome === 'reauthorization_required') {
      r.fail(
        'stored-token',
        `最後の更新 (${formatTime(token.lastRefreshAt)}) でリフレッシュトークンが無効と判定されました: ${token.lastError ?? ''}`,
        REAUTHORIZE_FIX,
        'reauthorization_required',
      );
      return;
    }
    const notes: string[] = [];
    const primary = ring.primary.id;
    if (keyIds.some((id) => id !== primary)) {
      notes.push(
        `先頭のキー "${primary}" ではなく ${keyIds.map((id) => `"${id}"`).join(', ')} で暗号化されています。` +
          'すべてのインスタンスに新しい鍵リングを配置したら alarmbox rekey を実行してください (それまで古いキーを削除しないこと)。',
      );
    }
    if (token.lastRefreshOutcome === 'ok' && token.lastError !== null) {
      // The last pair was stored although AlarmBox's answer was odd (token-response.ts says what and why).
      notes.push(`最後に保存したトークンの応答に警告があります: ${token.lastError}`);
    }
    // A history that cannot be read is a database failure like any other: the outer catch reports it.
    const summary = await new RefreshHistory(database).summary(0);
    if (summary !== undefined && summary.consecutiveFailures > 0) {
      notes.push(
        `直近の更新が ${summary.consecutiveFailures} 回続けて失敗しています (alarmbox status で理由を確認できます)。`,
      );
    }
    r.ok(
      'stored-token',
      `登録済み。キー ${keyIds.map((id) => `"${id}"`).join(', ')} で復号できました。有効期限 ${formatTime(token.expiredAt)} ${formatRemaining(token.expiredAt)}`,
      notes,
    );
  } catch (error) {
    r.fail('stored-token', error, RERUN_FIX);
  }
}

/**
 * Who holds the refresh lease (owner, since, until, database clock), and every lease that cannot be right: one
 * ending further away than the longest lease the package grants, or acquired "in the future". Either means a
 * database clock stepped back or a hand-made row; the first kind is taken over by the next refresh (with a
 * warning), the second blocks only until it ends, but both say the clock of the database needs a look.
 */
async function checkLeases(database: DatabaseHandle, r: Recorders): Promise<void> {
  let inspected: Awaited<ReturnType<typeof inspectLeases>>;
  try {
    inspected = await inspectLeases(database);
  } catch (error) {
    r.fail('lease', error, RERUN_FIX);
    return;
  }
  const { nowMs, leases } = inspected;
  const describe = (l: InspectedLease) =>
    `"${l.name}" を ${l.owner} が ${isoOfDbTime(l.acquiredAtMs)} から ${isoOfDbTime(l.expiresAtMs)} まで保持`;
  const impossible = leases.filter((l) => l.state === 'impossible' || !(l.acquiredAtMs <= nowMs));
  if (impossible.length > 0) {
    const why = (l: InspectedLease) =>
      l.state === 'impossible'
        ? `期限がデータベースの現在時刻 ${isoOfDbTime(nowMs)} から最長のロック期限 ${MAX_LEASE_MS / 60_000} 分より先です`
        : `取得時刻がデータベースの現在時刻 ${isoOfDbTime(nowMs)} より後です`;
    r.fail(
      'lease',
      `ありえないロックがあります: ${impossible.map((l) => `${describe(l)} (${why(l)})`).join('、')}。`,
      'データベースの時計が戻されたか、手で作られた行です。期限が先すぎるロックは次の alarmbox refresh-token が警告を出して引き継ぎます。' +
        `すぐに片付けるには、そのロックを使う処理が動いていないことを確かめてから DELETE FROM ${LOCKS_TABLE} WHERE name = '<ロック名>' を実行してください。` +
        'データベースサーバーの時刻 (NTP) と、このテーブルを書き換える処理がないかも確認してください。',
      'stored_data_invalid',
    );
    return;
  }
  const token = leases.find((l) => l.name === TokenService.LOCK_NAME);
  if (token === undefined) {
    r.ok('lease', '保持しているプロセスはありません');
  } else if (token.state === 'expired') {
    r.ok('lease', `期限切れのロックが残っています (${describe(token)})。次の更新が引き継ぎます`);
  } else {
    r.ok('lease', `トークンを更新中です (${describe(token)})`);
  }
}

async function checkTokenEndpoint(
  config: AlarmboxConfig,
  send: FetchLike,
  credentials: ClientCredentials,
  toleranceMs: number,
  r: Recorders,
): Promise<void> {
  const url = `${config.baseUrl}/oauth/token`;
  let probe: Probe;
  try {
    probe = await sendProbe(url, config, send, credentials);
  } catch (error) {
    failUnreachable(url, error, r);
    r.skip('clock', 'AlarmBox から応答がなかったため確認していません');
    return;
  }
  judgeTokenEndpoint(url, probe, r);
  checkClock(probe, toleranceMs, r);
}

/** The answer to a code exchange with a code that cannot exist: it shows the endpoint and the client, spends nothing. */
interface Probe {
  readonly response: Response;
  readonly oauthError: string | undefined;
  readonly sentAt: number;
  readonly receivedAt: number;
}

async function sendProbe(
  url: string,
  config: AlarmboxConfig,
  send: FetchLike,
  credentials: ClientCredentials,
): Promise<Probe> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: PROBE_CODE,
    redirect_uri: config.redirectUri,
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
  });
  const sentAt = Date.now();
  const response = await send(url, {
    method: 'POST',
    body,
    headers: { accept: 'application/json' },
    redirect: 'manual',
    signal: AbortSignal.timeout(config.httpTimeoutMs),
  });
  const text = await response.text();
  const receivedAt = Date.now();
  let oauthError: string | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    oauthError = typeof parsed.error === 'string' ? parsed.error : undefined;
  } catch {
    oauthError = undefined;
  }
  return { response, oauthError, sentAt, receivedAt };
}

function failUnreachable(url: string, error: unknown, r: Recorders): void {
  if (error instanceof OutgoingRequestError) {
    // The proxy or the certificate chain: the message names it and the fix (src/http/fetch.ts).
    r.fail('token-endpoint', error.message, 'メッセージに示した設定を直してください。', error.reason);
    return;
  }
  const timeout = error instanceof DOMException && error.name === 'TimeoutError';
  const code = timeout ? 'タイムアウト' : (errorCode(error) ?? causeMessage(error) ?? 'ネットワークエラー');
  r.fail(
    'token-endpoint',
    `${url} に接続できません (${code})。`,
    'ALARMBOX_BASE_URL とネットワーク (プロキシ・ファイアウォール・DNS) を確認し、しばらくしてから再実行してください。',
    'temporary',
  );
}

/** What the answer to the probe says about the endpoint and the client credentials (RFC 6749 §5.2). */
function judgeTokenEndpoint(url: string, { response, oauthError }: Probe, r: Recorders): void {
  const status = response.status;
  const label = `HTTP ${status}${oauthError === undefined ? '' : ` ${oauthError}`}`;
  if (oauthError === 'invalid_grant' || (status === 400 && oauthError === 'invalid_request')) {
    r.ok(
      'token-endpoint',
      `${url} が応答し、client_id / client_secret が受け付けられました (${label}: 確認用のダミーの認可コードを送ったので想定どおりです)`,
    );
  } else if (
    status === 401 ||
    oauthError === 'invalid_client' ||
    oauthError === 'unauthorized_client' ||
    oauthError === 'unsupported_grant_type'
  ) {
    r.fail(
      'token-endpoint',
      `AlarmBox がクライアント認証を拒否しました (${label})。`,
      'ALARMBOX_CLIENT_ID と ALARMBOX_CLIENT_SECRET が AlarmBox の API 管理画面の値と一致しているか確認してください。',
      'client_configuration',
    );
  } else if (status === 429 || status >= 500) {
    r.fail(
      'token-endpoint',
      `AlarmBox が一時的に応答できません (${label})。`,
      'しばらくしてから再実行してください。続く場合は AlarmBox の障害情報を確認してください。',
      'temporary',
    );
  } else if (status === 404 || status === 405 || (status >= 300 && status < 400)) {
    r.fail(
      'token-endpoint',
      `${url} はトークンエンドポイントではないようです (${label})。`,
      'ALARMBOX_BASE_URL を確認してください (例: https://api.alarmbox.jp)。',
      'configuration',
    );
  } else {
    r.fail(
      'token-endpoint',
      `想定外の応答です (${label})。`,
      'ALARMBOX_BASE_URL が AlarmBox を指しているか確認してください。',
      'unexpected',
    );
  }
}

/** How far this machine's clock is from AlarmBox's, from the `Date` of the probe's answer. */
function checkClock({ response, sentAt, receivedAt }: Probe, toleranceMs: number, r: Recorders): void {
  const date = response.headers.get('date');
  const serverMs = date === null ? Number.NaN : Date.parse(date);
  if (Number.isNaN(serverMs)) {
    r.skip('clock', 'AlarmBox の応答に Date ヘッダがないため確認していません');
    return;
  }
  // `Date` has whole seconds: the server's clock was somewhere in [date, date + 1 s) when it answered.
  const offsetMs = serverMs + 500 - (sentAt + receivedAt) / 2;
  const seconds = (Math.round(offsetMs / 100) / 10).toFixed(1);
  const signed = offsetMs >= 0 ? `+${seconds}` : seconds;
  const tolerance = Math.round(toleranceMs / 1000);
  if (Math.abs(offsetMs) <= toleranceMs) {
    r.ok('clock', `AlarmBox のサーバー時刻とのずれ ${signed} 秒 (許容 ±${tolerance} 秒)`);
  } else {
    r.fail(
      'clock',
      `このマシンの時計が AlarmBox のサーバー時刻より ${Math.abs(Math.round(offsetMs / 1000))} 秒${offsetMs > 0 ? '遅れて' : '進んで'}います (許容 ±${tolerance} 秒)。有効期限の判定がずれます。`,
      'NTP (chrony / systemd-timesyncd など) でこのマシンの時刻を同期してください。',
      'configuration',
    );
  }
}

function finish(checks: readonly DoctorCheck[]): DoctorReport {
  const firstFailure = checks.find((c) => c.status === 'fail');
  return {
    ok: firstFailure === undefined,
    exitCode: firstFailure === undefined ? 0 : exitCodeFor(firstFailure.reason ?? 'unexpected'),
    checks,
  };
}

function causeMessage(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error && cause.message !== '' ? cause.message.slice(0, 100) : undefined;
}

/** Which proxy the requests to ALARMBOX_BASE_URL go through; never the proxy's credentials. */
function proxyLine(route: ProxyRoute | { readonly kind: 'custom' }, baseUrl: string): string {
  const host = new URL(baseUrl).host;
  switch (route.kind) {
    case 'proxy':
      return `プロキシ: ${route.proxy.display} (${route.proxy.variable}) を経由して ${host} に接続します`;
    case 'custom':
      return 'プロキシ: アプリの fetch を使います (HTTPS_PROXY などは適用しません)';
    case 'direct':
      if (route.why === 'loopback') return `プロキシ: 使いません (${host} はこのマシン上のため)`;
      if (route.why === 'no_proxy')
        return `プロキシ: 使いません (${host} は ${route.variable} で除外されています)`;
      return 'プロキシ: 使いません (HTTPS_PROXY / HTTP_PROXY は未設定)';
  }
}
