import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { RunningEmulator } from '../../../emulator/index.ts';
import {
  EMULATOR_DEFAULTS,
  type EmulatorOptions,
  OOB_REDIRECT_URI,
  type RotationMode,
} from '../../../emulator/options.ts';
import { CommandError, UsageError } from '../command-error.ts';
import { parsePort } from '../port.ts';
import { waitForStopSignal } from '../stop-signal.ts';

/** What commander hands the action: every value still a raw string. */
interface RawEmulatorOptions {
  readonly host?: string;
  readonly port?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly accessTtl?: string;
  readonly rotation?: string;
  readonly autoApprove?: boolean;
  readonly scopes?: string;
  readonly quiet?: boolean;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

/** `alarmbox emulator`: runs the local AlarmBox (Doorkeeper-faithful OAuth server + credit-check API) until Ctrl+C. */
export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description('ローカルの AlarmBox エミュレータ (OAuth 2.0 サーバーと信用チェック API) を起動します')
    .option(
      '--host <host>',
      `待ち受けるホスト (既定: ${EMULATOR_DEFAULTS.host}。ループバック以外は警告を表示します)`,
    )
    .option('--port <port>', `待ち受けるポート番号 (既定: ${EMULATOR_DEFAULTS.port}、0 で空いているポート)`)
    .option('--client-id <id>', `登録するクライアント ID (既定: ${EMULATOR_DEFAULTS.clientId})`)
    .option(
      '--client-secret <secret>',
      `登録するクライアントシークレット (既定: ${EMULATOR_DEFAULTS.clientSecret})`,
    )
    .option(
      '--access-ttl <seconds>',
      `アクセストークンの有効期間 (秒、既定: ${EMULATOR_DEFAULTS.accessTtl}、0 で無期限)`,
    )
    .option(
      '--rotation <mode>',
      'リフレッシュトークンのローテーション方式: on_use | immediate (既定: on_use)',
    )
    .option('--auto-approve', '同意画面を出さず、認可リクエストに即座に認可コードを発行します')
    .option(
      '--scopes <scopes>',
      `アプリケーションのスコープ (空白区切り、既定: "${EMULATOR_DEFAULTS.scopes}")`,
    )
    .option('--quiet', 'リクエストごとのログを表示しません')
    .option('--tls-cert <file>', 'HTTPS で待ち受ける: サーバー証明書 (PEM) のファイル (--tls-key と一緒に)')
    .option('--tls-key <file>', 'HTTPS で待ち受ける: 秘密鍵 (PEM) のファイル')
    .addHelpText(
      'after',
      [
        '',
        '例:',
        '  alarmbox emulator --auto-approve',
        '  alarmbox emulator --port 4011 --access-ttl 60 --rotation immediate',
        '',
        '制御 API (エミュレータ専用): GET /__emulator/health, GET /__emulator/stats, PUT /__emulator/faults,',
        '  PUT /__emulator/clock, POST /__emulator/reset。詳しくは docs/emulator.md「制御 API」を参照してください。',
      ].join('\n'),
    )
    .action(async (raw: RawEmulatorOptions) => {
      const options = parseEmulatorCliOptions(raw);
      // Listening before the startup lines: a signal sent the moment they appear still stops cleanly.
      const stopSignal = waitForStopSignal();
      const emulator = await start(options);
      printStartup(emulator, raw);
      const signal = await stopSignal;
      process.stdout.write(`${signal} を受け取りました。エミュレータを停止します…\n`);
      await emulator.close();
      process.stdout.write('停止しました。\n');
    });
}

/** The text options that may not be blank: a blank one is refused, not dropped for the default. */
const NON_BLANK = [
  ['host', '--host にホスト名か IP アドレスを指定してください (例: --host 127.0.0.1)。'],
  [
    'scopes',
    '--scopes には 1 つ以上のスコープを空白区切りで指定してください (例: --scopes "read credit_check:create")。',
  ],
  ['clientId', '--client-id には空でない文字列を指定してください (例: --client-id local-client-id)。'],
  [
    'clientSecret',
    '--client-secret には空でない文字列を指定してください (例: --client-secret local-client-secret)。',
  ],
] as const;

/** Turns the command line into EmulatorOptions; a wrong value is a usage error naming the option and an example. */
export function parseEmulatorCliOptions(raw: RawEmulatorOptions): EmulatorOptions {
  const options: { -readonly [K in keyof EmulatorOptions]: EmulatorOptions[K] } = {
    autoApprove: raw.autoApprove === true,
    quiet: raw.quiet === true,
    log: (line) => process.stdout.write(`[emulator] ${line}\n`),
  };
  for (const [key, message] of NON_BLANK) {
    const value = raw[key];
    if (value === undefined) continue;
    if (value.trim() === '') throw new UsageError(message);
    options[key] = value;
  }
  if (raw.port !== undefined) options.port = parsePort(raw.port, 4010);
  if (raw.accessTtl !== undefined) {
    if (!/^\d{1,10}$/.test(raw.accessTtl)) {
      throw new UsageError(
        `--access-ttl には 0 以上の整数 (秒) を指定してください (例: --access-ttl 86400、0 で無期限)。指定値: ${raw.accessTtl}`,
      );
    }
    options.accessTtl = Number(raw.accessTtl);
  }
  if (raw.rotation !== undefined) {
    if (raw.rotation !== 'on_use' && raw.rotation !== 'immediate') {
      throw new UsageError(
        `--rotation には on_use か immediate を指定してください (例: --rotation immediate)。指定値: ${raw.rotation}`,
      );
    }
    options.rotation = raw.rotation satisfies RotationMode;
  }
  if (raw.tlsCert !== undefined || raw.tlsKey !== undefined) {
    if (raw.tlsCert === undefined || raw.tlsKey === undefined) {
      throw new UsageError(
        '--tls-cert と --tls-key は一緒に指定してください (例: --tls-cert cert.pem --tls-key key.pem)。',
      );
    }
    options.tls = { cert: readPem(raw.tlsCert, '--tls-cert'), key: readPem(raw.tlsKey, '--tls-key') };
  }
  return options;
}

function readPem(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '読み込みエラー';
    throw new UsageError(
      `${option} のファイル ${file} を読めません (${code})。PEM 形式のファイルのパスを指定してください。`,
    );
  }
}

async function start(options: EmulatorOptions): Promise<RunningEmulator> {
  try {
    // Loaded here, not at start-up: the other commands never pay for the server's modules.
    const { startEmulator } = await import('../../../emulator/index.ts');
    return await startEmulator(options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const where = `${options.host ?? EMULATOR_DEFAULTS.host}:${options.port ?? EMULATOR_DEFAULTS.port}`;
    if (code === 'EADDRINUSE') {
      throw new CommandError(
        `${where} は既に使用されています。--port で別のポートを指定してください (例: --port 4011、0 で空いているポート)。`,
        'configuration',
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') {
      throw new CommandError(
        `${where} で待ち受けできません (${code})。--host / --port を確認してください (例: --host 127.0.0.1)。`,
        'configuration',
      );
    }
    throw error;
  }
}

function printStartup(emulator: RunningEmulator, raw: RawEmulatorOptions): void {
  const o = emulator.options;
  if (!isLoopbackHost(o.host)) {
    process.stderr.write(
      `警告: ${o.host} で待ち受けています。ループバック以外のネットワークからも接続できます。` +
        '信頼できるネットワークでのみ使ってください。\n',
    );
  }
  const authorizeUrl = new URL('/oauth/authorize', emulator.url);
  authorizeUrl.search = new URLSearchParams({
    client_id: o.clientId,
    redirect_uri: OOB_REDIRECT_URI,
    response_type: 'code',
    scope: o.scopes,
  }).toString();
  // The default secret is the emulator's public dummy value; a secret given on the command line may be a
  // real one reused by mistake, so it is not echoed.
  const secret = raw.clientSecret === undefined ? o.clientSecret : '(--client-secret で指定した値)';
  const lines = [
    `AlarmBox エミュレータを起動しました: ${emulator.url}`,
    '',
    'クライアントには次の環境変数を設定してください (エミュレータ専用のダミー値です):',
    `ALARMBOX_BASE_URL=${emulator.url}`,
    `ALARMBOX_CLIENT_ID=${o.clientId}`,
    `ALARMBOX_CLIENT_SECRET=${secret}`,
    '',
    `認可 URL (OOB${o.autoApprove ? '、自動承認' : ''}):`,
    authorizeUrl.href,
    '',
    `設定: アクセストークン有効期間 ${o.accessTtl === null ? '無期限' : `${o.accessTtl} 秒`} / ローテーション ${o.rotation} / 自動承認 ${o.autoApprove ? 'あり' : 'なし'}`,
    `制御 API: ${emulator.url}/__emulator/ (health, stats, faults, clock, reset)`,
    'Ctrl+C で停止します。',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}
