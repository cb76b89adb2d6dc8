// Alerts as code, emitted by `deploy-manifest` beside the job: on Cloud Run, Cloud Monitoring policies on the
// job's JSON log lines (exit 4 at once, repeated exit 5); on Kubernetes, a PrometheusRule on the package's
// OpenTelemetry metrics as Prometheus names them. The log filters are built from the fields the job runner
// really writes (runner.ts `logEnd`: `job`, `event: "end"`, `exitCode`, `reason`); tests/jobs/alert-manifest.test.ts
// matches them against a real run's lines.
import { stringify } from 'yaml';
import { REAUTHORIZE_STEPS } from '../../alarmbox/errors.ts';
import { EXPIRY_MARGIN_MS } from '../../alarmbox/expiry.ts';
import { ExitCode } from '../../exit-codes.ts';
import { REFRESH_TOKEN_JOB_NAME } from './refresh-token-job.ts';

/** What the alerts need from the deploy options. */
export interface AlertManifestOptions {
  /** The Cloud Run job / CronJob name. */
  readonly name: string;
  /** The schedule's period: the window for "repeated" temporary failures is two of them. */
  readonly periodMs: number;
  readonly namespace?: string | undefined;
}

/** Temporary failures (exit 5) within the window before the warning: one failed tick is retried anyway. */
const TEMPORARY_FAILURES_THRESHOLD = 3;
/** The docs section an alert points to (tests/docs/links.test.ts checks the heading exists). */
const RUNBOOK = 'docs/operations.md「再認可の手順」';
const REASONS_DOC = 'docs/operations.md「失敗の理由と対処」';

/** Two periods of the schedule, between 1 h and 24 h (the longest alignment period Cloud Monitoring alerts take). */
function failureWindowSeconds(periodMs: number): number {
  return Math.min(86_400, Math.max(3_600, Math.floor((2 * periodMs) / 1000)));
}

/** The end line of one execution of the Cloud Run job, as Cloud Logging stores it (`jsonPayload.*`). */
function jobEndLogFilter(name: string, exitCode: number): string {
  return [
    'resource.type="cloud_run_job"',
    `resource.labels.job_name="${name}"`,
    `jsonPayload.job="${REFRESH_TOKEN_JOB_NAME}"`,
    'jsonPayload.event="end"',
    `jsonPayload.exitCode=${exitCode}`,
  ].join(' AND ');
}

/** The log-based metric that counts exit-5 executions (Cloud Logging metric names allow `_`). */
function temporaryMetricName(name: string): string {
  return `${name.replaceAll('-', '_')}_temporary_failures`;
}

/** The policies' display names: the script finds an existing policy by them. */
const reauthorizationName = (name: string) => `${name}: 再認可が必要 (終了コード 4)`;
const temporaryName = (name: string) => `${name}: 一時的な失敗が続いている (終了コード 5)`;

function reauthorizationPolicy(o: AlertManifestOptions): object {
  return {
    displayName: reauthorizationName(o.name),
    documentation: {
      mimeType: 'text/markdown',
      content:
        'AlarmBox のリフレッシュトークンが失効しました (`reason: reauthorization_required`)。アクセストークンの期限が切れると API を呼べなくなります。' +
        `すぐに、${REAUTHORIZE_STEPS} (${RUNBOOK})。`,
    },
    combiner: 'OR',
    conditions: [
      {
        displayName: `${REFRESH_TOKEN_JOB_NAME} が終了コード 4 で終わった`,
        conditionMatchedLog: {
          filter: jobEndLogFilter(o.name, ExitCode.reauthorizationRequired),
          labelExtractors: { reason: 'EXTRACT(jsonPayload.reason)' },
        },
      },
    ],
    // Required for log-based alerts: at most one notification an hour while the chain stays dead.
    alertStrategy: { notificationRateLimit: { period: '3600s' }, autoClose: '604800s' },
    severity: 'CRITICAL',
  };
}

function temporaryPolicy(o: AlertManifestOptions): object {
  const window = failureWindowSeconds(o.periodMs);
  return {
    displayName: temporaryName(o.name),
    documentation: {
      mimeType: 'text/markdown',
      content:
        `${REFRESH_TOKEN_JOB_NAME} が ${window / 3600} 時間に ${TEMPORARY_FAILURES_THRESHOLD} 回以上、一時的な失敗 (終了コード 5: ` +
        'ネットワーク・AlarmBox の 5xx / 429・データベースに届かない・ロック待ち) で終わりました。' +
        `ジョブのログの \`jsonPayload.message\` と \`alarmbox doctor\` で原因を確かめてください (${REASONS_DOC})。`,
    },
    combiner: 'OR',
    conditions: [
      {
        displayName: `終了コード 5 が ${window / 3600} 時間に ${TEMPORARY_FAILURES_THRESHOLD} 回以上`,
        conditionThreshold: {
          filter: `resource.type="cloud_run_job" AND metric.type="logging.googleapis.com/user/${temporaryMetricName(o.name)}"`,
          aggregations: [
            {
              alignmentPeriod: `${window}s`,
              perSeriesAligner: 'ALIGN_SUM',
              crossSeriesReducer: 'REDUCE_SUM',
            },
          ],
          comparison: 'COMPARISON_GT',
          thresholdValue: TEMPORARY_FAILURES_THRESHOLD - 1,
          duration: '0s',
          trigger: { count: 1 },
        },
      },
    ],
    alertStrategy: { autoClose: `${window}s` },
    severity: 'WARNING',
  };
}

/** A bash fragment (appended to the Cloud Run script): the log-based metric and the two alert policies. */
export function renderCloudRunAlerts(o: AlertManifestOptions): string {
  const metric = temporaryMetricName(o.name);
  // The policies are YAML for `--policy-from-file`, in quoted heredocs: bash expands nothing in them.
  const reauthorization = stringify(reauthorizationPolicy(o), { lineWidth: 0 });
  const temporary = stringify(temporaryPolicy(o), { lineWidth: 0 });
  return `
# --- アラート (docs/operations.md「アラート」)。--no-alerts で出力しません ---
# gcloud のバージョンによる違い: アラートポリシーの \`gcloud monitoring policies\` は新しい gcloud では GA、古い gcloud では
# alpha / beta にしかありません。その場合は MONITORING_TRACK=beta (または alpha) を指定して実行してください。
# 通知先は NOTIFICATION_CHANNELS (projects/…/notificationChannels/… をカンマ区切り、gcloud beta monitoring channels list で確認)。
# 実行するアカウントには roles/logging.configWriter (指標) と roles/monitoring.alertPolicyEditor (ポリシー) が要ります。
# 何度実行しても安全です: 同じ displayName のポリシー・同じ名前の指標は update します。
MONITORING_TRACK="\${MONITORING_TRACK:-}"
NOTIFICATION_CHANNELS="\${NOTIFICATION_CHANNELS:-}"
ALERT_DIR="$(mktemp -d)"
trap 'rm -rf "$ALERT_DIR"' EXIT

# 終了コード 5 の実行を数えるログベースの指標 (再認可 4 はログに一致した時点で通知するので指標は要りません)
TEMPORARY_METRIC=${metric}
TEMPORARY_FILTER=${shSingle(jobEndLogFilter(o.name, ExitCode.temporary))}
if gcloud logging metrics describe "$TEMPORARY_METRIC" --project "$PROJECT_ID" >/dev/null 2>&1; then
  METRIC_ACTION=update
else
  METRIC_ACTION=create
fi
gcloud logging metrics "$METRIC_ACTION" "$TEMPORARY_METRIC" \\
  --project "$PROJECT_ID" \\
  --description ${shSingle(`${o.name} が一時的な失敗 (終了コード 5) で終わった回数`)} \\
  --log-filter "$TEMPORARY_FILTER"

cat >"$ALERT_DIR/reauthorization.yaml" <<'POLICY'
${reauthorization}POLICY
cat >"$ALERT_DIR/temporary.yaml" <<'POLICY'
${temporary}POLICY

# displayName が同じポリシーがあれば置き換え (update)、なければ作成 (create)。
apply_policy() {
  local display_name="$1" file="$2" existing
  # shellcheck disable=SC2086 # MONITORING_TRACK is empty or one word (alpha / beta)
  existing="$(gcloud $MONITORING_TRACK monitoring policies list --project "$PROJECT_ID" \\
    --filter "displayName=\\"$display_name\\"" --format 'value(name)' | head -n 1)"
  if [ -n "$existing" ]; then
    # shellcheck disable=SC2086
    gcloud $MONITORING_TRACK monitoring policies update "$existing" --project "$PROJECT_ID" --policy-from-file "$file" \\
      \${NOTIFICATION_CHANNELS:+--set-notification-channels "$NOTIFICATION_CHANNELS"}
  else
    # shellcheck disable=SC2086
    gcloud $MONITORING_TRACK monitoring policies create --project "$PROJECT_ID" --policy-from-file "$file" \\
      \${NOTIFICATION_CHANNELS:+--notification-channels "$NOTIFICATION_CHANNELS"}
  fi
}
apply_policy ${shSingle(reauthorizationName(o.name))} "$ALERT_DIR/reauthorization.yaml"
apply_policy ${shSingle(temporaryName(o.name))} "$ALERT_DIR/temporary.yaml"
`;
}

/** A word for bash in single quotes (the filters hold double quotes). */
function shSingle(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The metric names as Prometheus sees them after the OpenTelemetry translation (docs/operations.md「アラート」). */
const REFRESHES = 'alarmbox_token_refreshes_total';
// Prometheus's name for the gauge depends on the pipeline: the OpenTelemetry Collector and Prometheus's own OTLP
// receiver add the unit (`_seconds`), the SDK's PrometheusExporter (an app's /metrics) does not. The rule takes
// both (tests/telemetry/telemetry.test.ts serializes real data with the SDK's serializer).
const TIME_TO_EXPIRY = '{__name__=~"alarmbox_token_time_to_expiry(_seconds)?"}';

/** A PrometheusRule (Prometheus Operator) document for the three alerts on the package's metrics. */
export function renderPrometheusRule(o: AlertManifestOptions): string {
  const window = `${failureWindowSeconds(o.periodMs) / 3600}h`;
  const reauth = `${REFRESHES}{alarmbox_refresh_outcome="reauthorization_required"}`;
  const temporary = `${REFRESHES}{alarmbox_refresh_outcome=~"temporary|lock_timeout"}`;
  const marginSeconds = EXPIRY_MARGIN_MS / 1000;
  const rule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: `${o.name}-alerts`,
      ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
      labels: { 'app.kubernetes.io/name': 'alarmbox-auth', 'app.kubernetes.io/component': 'alerts' },
    },
    spec: {
      groups: [
        {
          name: 'alarmbox-auth',
          rules: [
            {
              alert: 'AlarmboxReauthorizationRequired',
              // increase() misses a series' first sample (the counter appears at its first failure): the second
              // half catches a series that did not exist 30 minutes ago.
              expr: `sum(increase(${reauth}[30m])) > 0 or sum(${reauth} unless ${reauth} offset 30m) > 0`,
              labels: { severity: 'critical' },
              annotations: {
                summary: 'AlarmBox の再認可が必要です (reauthorization_required)',
                description: `リフレッシュトークンが失効しました。アクセストークンの期限が切れる前に ${RUNBOOK} のとおり再認可してください。`,
              },
            },
            {
              alert: 'AlarmboxRefreshTemporaryFailures',
              expr: `sum(increase(${temporary}[${window}])) >= ${TEMPORARY_FAILURES_THRESHOLD}`,
              labels: { severity: 'warning' },
              annotations: {
                summary: `トークン更新の一時的な失敗が ${window} に ${TEMPORARY_FAILURES_THRESHOLD} 回以上`,
                description: `ネットワーク・AlarmBox の 5xx / 429・データベース・ロック待ちのどれかです。alarmbox status と alarmbox doctor で確かめてください (${REASONS_DOC})。`,
              },
            },
            {
              alert: 'AlarmboxTokenNearExpiry',
              expr: `min(${TIME_TO_EXPIRY}) < ${marginSeconds}`,
              for: '10m',
              labels: { severity: 'warning' },
              annotations: {
                summary: `アクセストークンの残りが ${marginSeconds} 秒 (更新の余裕) を切ったままです`,
                description: `更新が行われていません。定期更新ジョブ (${o.name}) の実行と alarmbox status を確かめてください (${REASONS_DOC})。`,
              },
            },
          ],
        },
      ],
    },
  };
  return stringify(rule, { lineWidth: 0 });
}
