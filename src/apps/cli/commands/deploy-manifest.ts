import type { Command } from 'commander';
import { ConfigError } from '../../../config/errors.ts';
import { REFRESH_TOKEN_SCHEDULE } from '../../jobs/refresh-token-job.ts';
import {
  JOB_DEFAULTS,
  type RawJobRunSettings,
  resolveFreshWindowMs,
  resolveJobRunSettings,
} from '../../jobs/settings.ts';

interface DeployManifestCliOptions extends Omit<RawJobRunSettings, 'logFormat'> {
  readonly target?: string;
  readonly image?: string;
  readonly name?: string;
  readonly schedule?: string;
  readonly timezone?: string;
  readonly skipIfFresh?: string;
  readonly region?: string;
  readonly project?: string;
  readonly serviceAccount?: string;
  readonly schedulerServiceAccount?: string;
  readonly cloudsqlInstance?: string;
  readonly infoSecret?: string;
  readonly keysSecret?: string;
  readonly databaseUrlSecret?: string;
  readonly secretName?: string;
  readonly namespace?: string;
  readonly alerts: boolean;
}

export function registerDeployManifestCommand(program: Command): void {
  program
    .command('deploy-manifest')
    .description(
      '定期更新ジョブ (refresh-token) を配置するための定義とアラートを出力します: Cloud Run Jobs + Cloud Scheduler + Cloud Monitoring の gcloud スクリプト、または Kubernetes の CronJob + PrometheusRule',
    )
    .requiredOption(
      '--target <target>',
      'cloud-run (gcloud コマンドの bash スクリプト) か kubernetes (CronJob の YAML)',
    )
    .option('--image <image>', 'コンテナイメージ (ENTRYPOINT が alarmbox のもの。既定: alarmbox-auth:latest)')
    .option('--name <name>', 'ジョブ名 (既定: alarmbox-refresh-token)')
    .option('--schedule <cron>', `スケジュール (既定: "${REFRESH_TOKEN_SCHEDULE}" = ガイドの 12 時間ごと)`)
    .option('--timezone <tz>', 'スケジュールのタイムゾーン (既定: Asia/Tokyo)')
    .option('--skip-if-fresh <duration>', '各実行に渡す --skip-if-fresh (既定: スケジュールの間隔の半分)')
    .option('--retries <n>', `各実行の再試行回数 (既定: ${JOB_DEFAULTS.retries})`)
    .option('--retry-delay <duration>', '各実行の最初の再試行までの待ち時間 (既定: 5s)')
    .option(
      '--timeout <duration>',
      '各実行の時間の上限。プラットフォームのタイムアウトはこれより少し長くします (既定: 5m)',
    )
    .option('--region <region>', 'cloud-run: リージョン (既定: asia-northeast1)')
    .option('--project <id>', 'cloud-run: プロジェクト ID (既定: 実行時の環境変数 PROJECT_ID)')
    .option('--service-account <email>', 'cloud-run: ジョブを実行するサービスアカウント')
    .option(
      '--scheduler-service-account <email>',
      'cloud-run: Cloud Scheduler がジョブを起動するときのサービスアカウント',
    )
    .option(
      '--cloudsql-instance <connection>',
      'cloud-run: 接続する Cloud SQL インスタンス (PROJECT:REGION:INSTANCE)',
    )
    .option('--info-secret <name>', 'ALARMBOX_INFO のシークレット名 / Secret のキー (既定: alarmbox-info)')
    .option(
      '--keys-secret <name>',
      'ALARMBOX_ENCRYPTION_KEYS のシークレット名 / Secret のキー (既定: alarmbox-encryption-keys)',
    )
    .option(
      '--database-url-secret <name>',
      'DATABASE_URL のシークレット名 / Secret のキー (既定: alarmbox-database-url)',
    )
    .option('--secret-name <name>', 'kubernetes: 上の 3 つを持つ Secret の名前 (既定: alarmbox)')
    .option('--namespace <namespace>', 'kubernetes: 名前空間')
    .option(
      '--no-alerts',
      'アラートの定義を出力しません (既定では cloud-run: Cloud Monitoring のログベースのアラート、kubernetes: PrometheusRule も出力)',
    )
    .addHelpText(
      'after',
      [
        '',
        '例:',
        '  alarmbox deploy-manifest --target cloud-run --image asia-northeast1-docker.pkg.dev/my-project/app/alarmbox-auth:1.0 > deploy-alarmbox-job.sh',
        '  alarmbox deploy-manifest --target kubernetes --image ghcr.io/example/alarmbox-auth:1.0 | kubectl apply -f -',
      ].join('\n'),
    )
    .action(deployManifest);
}

async function deployManifest(opts: DeployManifestCliOptions): Promise<void> {
  // Loaded here: only this command needs croner and yaml.
  const [{ DEPLOY_DEFAULTS, DEPLOY_TARGETS, renderDeployManifest }, { DEFAULT_TIMEZONE, parseSchedule }] =
    await Promise.all([import('../../jobs/deploy-manifest.ts'), import('../../jobs/schedule.ts')]);
  const target = DEPLOY_TARGETS.find((t) => t === opts.target);
  if (target === undefined) {
    throw new ConfigError(
      '--target',
      `--target "${(opts.target ?? '').slice(0, 32)}" は使えません。cloud-run か kubernetes を指定してください (例: --target cloud-run)。`,
    );
  }
  // The manifest describes production, not this shell: the environment's job settings do not leak in.
  const settings = resolveJobRunSettings(opts, 'json', {});
  const schedule = parseSchedule(
    opts.schedule ?? REFRESH_TOKEN_SCHEDULE,
    opts.timezone ?? DEFAULT_TIMEZONE,
    '--schedule',
  );
  const freshWindowMs = resolveFreshWindowMs(opts.skipIfFresh, schedule.periodMs);
  const text = renderDeployManifest({
    target,
    image: nonBlank(opts.image, '--image') ?? DEPLOY_DEFAULTS.image,
    name: opts.name ?? DEPLOY_DEFAULTS.name,
    schedule,
    retries: settings.retries,
    retryDelayMs: settings.retryDelayMs,
    budgetMs: settings.budgetMs,
    freshWindowMs,
    region: nonBlank(opts.region, '--region') ?? DEPLOY_DEFAULTS.region,
    project: nonBlank(opts.project, '--project'),
    serviceAccount: nonBlank(opts.serviceAccount, '--service-account'),
    schedulerServiceAccount: nonBlank(opts.schedulerServiceAccount, '--scheduler-service-account'),
    cloudsqlInstance: nonBlank(opts.cloudsqlInstance, '--cloudsql-instance'),
    secrets: {
      info: nonBlank(opts.infoSecret, '--info-secret') ?? DEPLOY_DEFAULTS.secrets.info,
      encryptionKeys: nonBlank(opts.keysSecret, '--keys-secret') ?? DEPLOY_DEFAULTS.secrets.encryptionKeys,
      databaseUrl:
        nonBlank(opts.databaseUrlSecret, '--database-url-secret') ?? DEPLOY_DEFAULTS.secrets.databaseUrl,
    },
    secretName: nonBlank(opts.secretName, '--secret-name') ?? DEPLOY_DEFAULTS.secretName,
    namespace: nonBlank(opts.namespace, '--namespace'),
    alerts: opts.alerts,
  });
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** undefined stays undefined; a value must be one visible word (it lands in a shell script or YAML). */
function nonBlank(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!/^[\x21-\x7E]+$/.test(v) || /["'`$\\]/.test(v)) {
    throw new ConfigError(
      option,
      `${option} の値は空白・引用符・$ を含まない 1 語で指定してください (例: ${option} ${option === '--image' ? 'alarmbox-auth:1.0' : 'alarmbox-info'})。`,
    );
  }
  return v;
}
