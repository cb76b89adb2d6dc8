// What deploys the scheduled refresh: a bash script of gcloud commands for Cloud Run Jobs + Cloud Scheduler
// (secrets from Secret Manager), or a Kubernetes CronJob (secrets from a Secret). Both run
// `alarmbox refresh-token` with JSON logs, bounded retries, a time budget and the per-tick idempotency window.
import { stringify } from 'yaml';
import { DEFAULT_HTTP_TIMEOUT_MS } from '../../config/config.ts';
import { ConfigError } from '../../config/errors.ts';
import { renderCloudRunAlerts, renderPrometheusRule } from './alert-manifest.ts';
import { formatDuration } from './duration.ts';
import { REFRESH_TOKEN_JOB_NAME } from './refresh-token-job.ts';
import type { Schedule } from './schedule.ts';
import type { JobRetrySettings } from './settings.ts';

export type DeployTarget = 'cloud-run' | 'kubernetes';
export const DEPLOY_TARGETS: readonly DeployTarget[] = ['cloud-run', 'kubernetes'];

/** The environment variables the job reads from secrets, and the secret (or Secret key) each comes from. */
export interface SecretNames {
  readonly info: string;
  readonly encryptionKeys: string;
  readonly databaseUrl: string;
}

export interface DeployManifestOptions extends JobRetrySettings {
  readonly target: DeployTarget;
  readonly image: string;
  /** Cloud Run job / CronJob name. */
  readonly name: string;
  readonly schedule: Schedule;
  /** Per-tick idempotency: `--skip-if-fresh` given to every execution. */
  readonly freshWindowMs: number;
  /** Cloud Run: region of the job and the scheduler job. */
  readonly region: string;
  /** Cloud Run: project id; without it the script requires `PROJECT_ID` in the environment. */
  readonly project?: string | undefined;
  readonly serviceAccount?: string | undefined;
  readonly schedulerServiceAccount?: string | undefined;
  /** Cloud Run: `PROJECT:REGION:INSTANCE` of a Cloud SQL instance to connect through its socket. */
  readonly cloudsqlInstance?: string | undefined;
  /** Secret Manager secret names (Cloud Run) or keys of the Secret (Kubernetes). */
  readonly secrets: SecretNames;
  /** Kubernetes: the Secret holding the keys above. */
  readonly secretName: string;
  readonly namespace?: string | undefined;
  /** Emit the alerts too (docs/operations.md「アラート」): Cloud Monitoring policies, or a PrometheusRule. */
  readonly alerts: boolean;
}

export const DEPLOY_DEFAULTS = {
  image: 'alarmbox-auth:latest',
  name: 'alarmbox-refresh-token',
  region: 'asia-northeast1',
  secrets: {
    info: 'alarmbox-info',
    encryptionKeys: 'alarmbox-encryption-keys',
    databaseUrl: 'alarmbox-database-url',
  },
  secretName: 'alarmbox',
} as const;

/** How long the platform lets one execution run: the budget, one last attempt, and start-up. */
function platformTimeoutSeconds(budgetMs: number): number {
  const lastAttemptMs = DEFAULT_HTTP_TIMEOUT_MS + DEFAULT_HTTP_TIMEOUT_MS + 5_000; // lock wait + request
  return Math.ceil((budgetMs + lastAttemptMs) / 1000) + 60;
}

/** The command line of every execution (the image's entrypoint is `alarmbox`). */
function jobArgs(o: DeployManifestOptions): string[] {
  return [
    REFRESH_TOKEN_JOB_NAME,
    '--log-format=json',
    `--retries=${o.retries}`,
    `--retry-delay=${formatDuration(o.retryDelayMs)}`,
    `--timeout=${formatDuration(o.budgetMs)}`,
    `--skip-if-fresh=${formatDuration(o.freshWindowMs)}`,
  ];
}

const NAME = /^[a-z](?:[-a-z0-9]{0,50}[a-z0-9])?$/;

export function renderDeployManifest(o: DeployManifestOptions): string {
  if (!NAME.test(o.name)) {
    throw new ConfigError(
      '--name',
      `--name "${o.name.slice(0, 64)}" は使えません。英小文字で始まり英小文字・数字・ハイフンだけの 52 文字以内にしてください (例: --name ${DEPLOY_DEFAULTS.name})。`,
    );
  }
  return o.target === 'cloud-run' ? renderCloudRun(o) : renderKubernetes(o);
}

/** A word for bash: bare when safe, else single-quoted. */
function sh(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

function renderCloudRun(o: DeployManifestOptions): string {
  const scheduler = `${o.name}-schedule`;
  const secrets = [
    `ALARMBOX_INFO=${o.secrets.info}:latest`,
    `ALARMBOX_ENCRYPTION_KEYS=${o.secrets.encryptionKeys}:latest`,
    `DATABASE_URL=${o.secrets.databaseUrl}:latest`,
  ].join(',');
  const project =
    o.project === undefined
      ? `PROJECT_ID="\${PROJECT_ID:?PROJECT_ID に Google Cloud のプロジェクト ID を設定してください}"`
      : `PROJECT_ID="\${PROJECT_ID:-${o.project}}"`;
  const jobSa = o.serviceAccount ?? `alarmbox-job@\${PROJECT_ID}.iam.gserviceaccount.com`;
  const schedulerSa =
    o.schedulerServiceAccount ?? `alarmbox-scheduler@\${PROJECT_ID}.iam.gserviceaccount.com`;
  const timeout = platformTimeoutSeconds(o.budgetMs);
  const jobFlags = [
    '--project "$PROJECT_ID"',
    '--region "$REGION"',
    '--image "$IMAGE"',
    '--tasks 1',
    '--parallelism 1',
    '--max-retries 1',
    `--task-timeout ${timeout}s`,
    '--service-account "$JOB_SERVICE_ACCOUNT"',
    '--set-env-vars ALARMBOX_ENV=production',
    `--set-secrets ${sh(secrets)}`,
    ...(o.cloudsqlInstance === undefined ? [] : [`--set-cloudsql-instances ${sh(o.cloudsqlInstance)}`]),
    `--args=${sh(jobArgs(o).join(','))}`,
  ];
  const schedulerFlags = [
    '--project "$PROJECT_ID"',
    '--location "$REGION"',
    `--schedule ${sh(o.schedule.pattern)}`,
    `--time-zone ${sh(o.schedule.timezone)}`,
    `--uri "https://run.googleapis.com/v2/projects/\${PROJECT_ID}/locations/\${REGION}/jobs/\${JOB}:run"`,
    '--http-method POST',
    '--oauth-service-account-email "$SCHEDULER_SERVICE_ACCOUNT"',
  ];
  const continued = (flags: readonly string[]) => flags.map((f) => `  ${f}`).join(' \\\n');
  return `#!/usr/bin/env bash
# alarmbox-auth: AlarmBox トークンの定期更新 (ガイド Step 7 の CloudRunJobs) を Cloud Run Jobs + Cloud Scheduler に配置します。
# 生成: alarmbox deploy-manifest --target cloud-run。何度実行しても安全です (既存のジョブは update します)。
#
# 一度だけ必要な準備 (docs/operations.md「Cloud Run Jobs に配置する」):
#   gcloud secrets create ${o.secrets.info} --data-file=-             # {"client_id":"…","client_secret":"…"}
#   gcloud secrets create ${o.secrets.encryptionKeys} --data-file=-   # k1:<openssl rand -base64 32>
#   gcloud secrets create ${o.secrets.databaseUrl} --data-file=-      # postgres://… / mysql://…
#   ジョブのサービスアカウントに roles/secretmanager.secretAccessor、
#   スケジューラのサービスアカウントにジョブへの roles/run.invoker を付与します。
#
# 実行のたびに: 同時実行は 1 (ジョブのロック job:${REFRESH_TOKEN_JOB_NAME} でも排他)、一時的な失敗は ${o.retries} 回まで再試行、
# ${formatDuration(o.freshWindowMs)} 以内に更新済みなら何もしない (スケジューラの重複起動対策)。終了コード: 0 成功 / 2 設定 / 3 未登録 / 4 再認可 / 5 一時的。
set -euo pipefail

${project}
REGION="\${REGION:-${o.region}}"
JOB=${sh(o.name)}
IMAGE="\${IMAGE:-${o.image}}"
JOB_SERVICE_ACCOUNT="\${JOB_SERVICE_ACCOUNT:-${jobSa}}"
SCHEDULER_SERVICE_ACCOUNT="\${SCHEDULER_SERVICE_ACCOUNT:-${schedulerSa}}"

if gcloud run jobs describe "$JOB" --project "$PROJECT_ID" --region "$REGION" >/dev/null 2>&1; then
  JOB_ACTION=update
else
  JOB_ACTION=create
fi
gcloud run jobs "$JOB_ACTION" "$JOB" \\
${continued(jobFlags)}

if gcloud scheduler jobs describe ${sh(scheduler)} --project "$PROJECT_ID" --location "$REGION" >/dev/null 2>&1; then
  SCHEDULER_ACTION=update
else
  SCHEDULER_ACTION=create
fi
gcloud scheduler jobs "$SCHEDULER_ACTION" http ${sh(scheduler)} \\
${continued(schedulerFlags)}
${o.alerts ? renderCloudRunAlerts(alertOptions(o)) : ''}`;
}

function alertOptions(o: DeployManifestOptions) {
  return { name: o.name, periodMs: o.schedule.periodMs, namespace: o.namespace };
}

function renderKubernetes(o: DeployManifestOptions): string {
  const fromSecret = (name: string, key: string) => ({
    name,
    valueFrom: { secretKeyRef: { name: o.secretName, key } },
  });
  const timeout = platformTimeoutSeconds(o.budgetMs);
  const cronJob = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      name: o.name,
      ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
      labels: { 'app.kubernetes.io/name': 'alarmbox-auth', 'app.kubernetes.io/component': 'refresh-token' },
    },
    spec: {
      schedule: o.schedule.pattern,
      timeZone: o.schedule.timezone,
      // Never two executions at once (the job's lease also guarantees it across clusters).
      concurrencyPolicy: 'Forbid',
      // A run missed by more than this is dropped: the next tick (or an online refresh) takes over.
      startingDeadlineSeconds: Math.min(3600, Math.max(60, Math.floor(o.schedule.periodMs / 2000))),
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 5,
      jobTemplate: {
        spec: {
          backoffLimit: 1,
          activeDeadlineSeconds: timeout,
          // 2 (configuration), 3 (not registered), 4 (re-authorization) need a person: retrying cannot help.
          podFailurePolicy: {
            rules: [
              { action: 'FailJob', onExitCodes: { operator: 'In', values: [2, 3, 4] } },
              { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
            ],
          },
          template: {
            metadata: { labels: { 'app.kubernetes.io/name': 'alarmbox-auth' } },
            spec: {
              restartPolicy: 'Never',
              terminationGracePeriodSeconds: 40,
              containers: [
                {
                  name: REFRESH_TOKEN_JOB_NAME,
                  image: o.image,
                  args: jobArgs(o),
                  env: [
                    { name: 'ALARMBOX_ENV', value: 'production' },
                    fromSecret('ALARMBOX_INFO', o.secrets.info),
                    fromSecret('ALARMBOX_ENCRYPTION_KEYS', o.secrets.encryptionKeys),
                    fromSecret('DATABASE_URL', o.secrets.databaseUrl),
                  ],
                  resources: {
                    requests: { cpu: '50m', memory: '128Mi' },
                    limits: { memory: '256Mi' },
                  },
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ['ALL'] },
                  },
                },
              ],
            },
          },
        },
      },
    },
  };
  const ns = o.namespace === undefined ? '' : ` -n ${o.namespace}`;
  return `# alarmbox-auth: AlarmBox トークンの定期更新 (ガイド Step 7 の CloudRunJobs) を Kubernetes の CronJob で実行します。
# 生成: alarmbox deploy-manifest --target kubernetes
# 先に Secret を作ってください (値は Secret Manager などから。ファイルやシェル履歴に残さないこと):
#   kubectl create secret generic ${o.secretName}${ns} \\
#     --from-file=${o.secrets.info}=./alarmbox-info.json \\
#     --from-file=${o.secrets.encryptionKeys}=./encryption-keys \\
#     --from-file=${o.secrets.databaseUrl}=./database-url
# 終了コード: 0 成功 / 2 設定 / 3 未登録 / 4 再認可 (この 3 つは再実行しません) / 5 一時的 (backoffLimit まで再実行)。
${stringify(cronJob, { lineWidth: 0 })}${o.alerts ? prometheusRuleDocument(o) : ''}`;
}

/** The alerts as a second YAML document (needs the Prometheus Operator's CRD; --no-alerts leaves it out). */
function prometheusRuleDocument(o: DeployManifestOptions): string {
  return `---
# アラート (docs/operations.md「アラート」): Prometheus Operator の PrometheusRule。指標はアプリ・worker の OpenTelemetry
# (Prometheus での名前)。CRD がないクラスタでは --no-alerts で外してください。
${renderPrometheusRule(alertOptions(o))}`;
}
