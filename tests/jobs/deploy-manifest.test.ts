// `alarmbox deploy-manifest`: the Cloud Run script is run by bash with a stand-in `gcloud` that records its
// argv (so quoting and the create/update choice are what bash really does); the Kubernetes CronJob is
// parsed as YAML. Both hand the job a command line that the real CLI accepts.

import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../support/cli.ts';
import { logEvents } from '../support/cli-process.ts';

interface GcloudCall {
  readonly argv: string[];
  /** `--flag value` and `--flag=value`, by flag name. */
  readonly flags: Record<string, string>;
  /** Positional words (the command path and the resource name). */
  readonly words: string[];
}

function parseCall(argv: string[]): GcloudCall {
  const flags: Record<string, string> = {};
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      words.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) flags[arg.slice(2, eq)] = arg.slice(eq + 1);
    else flags[arg.slice(2)] = argv[++i] ?? '';
  }
  return { argv, flags, words };
}

describe('alarmbox deploy-manifest', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'alarmbox-deploy-'));
    // A stand-in for the gcloud CLI: records each call's argv; `describe` answers "exists" when told to.
    await writeFile(
      join(dir, 'gcloud'),
      `#!${process.execPath}
const { appendFileSync } = require('node:fs');
const argv = process.argv.slice(2);
appendFileSync(process.env.GCLOUD_LOG, JSON.stringify(argv) + '\\n');
const file = argv[argv.indexOf('--policy-from-file') + 1];
if (argv.includes('--policy-from-file')) appendFileSync(process.env.GCLOUD_LOG + '.files', JSON.stringify(require('node:fs').readFileSync(file, 'utf8')) + '\\n');
if (argv.includes('list') && process.env.GCLOUD_EXISTS === '1') console.log('projects/p/alertPolicies/' + argv.length);
if (argv.includes('describe')) process.exit(process.env.GCLOUD_EXISTS === '1' ? 0 : 1);
`,
    );
    await chmod(join(dir, 'gcloud'), 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const runScript = async (script: string, env: Record<string, string>) => {
    const file = join(dir, `deploy-${Math.random().toString(36).slice(2)}.sh`);
    const log = `${file}.log`;
    await writeFile(file, script);
    await writeFile(log, '');
    await writeFile(`${log}.files`, '');
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        'bash',
        [file],
        { env: { PATH: `${dir}:${process.env.PATH ?? ''}`, GCLOUD_LOG: log, ...env } },
        (error, _stdout, stderr) =>
          resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stderr }),
      );
    });
    const calls = (await readFile(log, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => parseCall(JSON.parse(line) as string[]));
    // The policy files as gcloud read them, in the order of the calls.
    const files = (await readFile(`${log}.files`, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string);
    return { ...result, calls, files };
  };

  /** The job's own command line must be one the real CLI accepts: run it against an empty database. */
  const expectAcceptedByCli = async (args: string[]) => {
    const r = await runCli(args, { DATABASE_URL: `sqlite:${join(dir, 'empty.db')}` });
    const end = logEvents(r.stdout).find((e) => e.event === 'end');
    // Not "usage" (2 from an unknown option): the tables are missing, which is exit 2 with `migrate`.
    expect(end, r.stderr).toMatchObject({ reason: 'configuration' });
    expect(end?.message).toContain('alarmbox migrate');
  };

  it('cloud-run: a bash script of gcloud commands that creates the job and its scheduler, secrets from Secret Manager', async () => {
    const r = await runCli(
      [
        'deploy-manifest',
        '--target',
        'cloud-run',
        '--image',
        'asia-northeast1-docker.pkg.dev/p/app/alarmbox:1.2',
      ],
      {},
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith('#!/usr/bin/env bash\n')).toBe(true);

    const created = await runScript(r.stdout, { PROJECT_ID: 'my-proj' });
    expect(created.code, created.stderr).toBe(0);
    // The job and its scheduler first; the alerts follow (tests/jobs/alert-manifest.test.ts).
    expect(created.calls.slice(0, 4).map((c) => c.words.slice(0, 4).join(' '))).toEqual([
      'run jobs describe alarmbox-refresh-token',
      'run jobs create alarmbox-refresh-token',
      'scheduler jobs describe alarmbox-refresh-token-schedule',
      'scheduler jobs create http',
    ]);
    const job = created.calls[1]!;
    expect(job.flags).toMatchObject({
      project: 'my-proj',
      region: 'asia-northeast1',
      image: 'asia-northeast1-docker.pkg.dev/p/app/alarmbox:1.2',
      tasks: '1',
      parallelism: '1',
      'max-retries': '1',
      'task-timeout': '425s',
      'service-account': 'alarmbox-job@my-proj.iam.gserviceaccount.com',
      'set-env-vars': 'ALARMBOX_ENV=production',
    });
    expect(job.flags['set-secrets']?.split(',').sort()).toEqual([
      'ALARMBOX_ENCRYPTION_KEYS=alarmbox-encryption-keys:latest',
      'ALARMBOX_INFO=alarmbox-info:latest',
      'DATABASE_URL=alarmbox-database-url:latest',
    ]);
    const args = job.flags.args?.split(',') ?? [];
    expect(args).toEqual([
      'refresh-token',
      '--log-format=json',
      '--retries=2',
      '--retry-delay=5s',
      '--timeout=5m',
      '--skip-if-fresh=6h',
    ]);
    await expectAcceptedByCli(args);

    const scheduler = created.calls[3]!;
    expect(scheduler.words).toEqual([
      'scheduler',
      'jobs',
      'create',
      'http',
      'alarmbox-refresh-token-schedule',
    ]);
    expect(scheduler.flags).toEqual({
      project: 'my-proj',
      location: 'asia-northeast1',
      schedule: '0 */12 * * *',
      'time-zone': 'Asia/Tokyo',
      uri: 'https://run.googleapis.com/v2/projects/my-proj/locations/asia-northeast1/jobs/alarmbox-refresh-token:run',
      'http-method': 'POST',
      'oauth-service-account-email': 'alarmbox-scheduler@my-proj.iam.gserviceaccount.com',
    });

    // Run again when both exist: the same flags, with update.
    const updated = await runScript(r.stdout, { PROJECT_ID: 'my-proj', GCLOUD_EXISTS: '1' });
    expect(updated.code).toBe(0);
    expect(updated.calls[1]?.words.slice(0, 3)).toEqual(['run', 'jobs', 'update']);
    expect(updated.calls[1]?.flags).toEqual(job.flags);
    expect(updated.calls[3]?.words.slice(0, 4)).toEqual(['scheduler', 'jobs', 'update', 'http']);

    // Without a project the script stops before calling gcloud, naming the variable.
    const noProject = await runScript(r.stdout, {});
    expect(noProject.code).not.toBe(0);
    expect(noProject.stderr).toContain('PROJECT_ID');
    expect(noProject.calls).toEqual([]);
  });

  it('cloud-run: schedule, secrets, service accounts, Cloud SQL and the budget follow the options', async () => {
    const r = await runCli(
      [
        'deploy-manifest',
        '--target=cloud-run',
        '--project=acme-prod',
        '--region=us-central1',
        '--schedule=30 */6 * * *',
        '--timezone=UTC',
        '--retries=1',
        '--timeout=2m',
        '--info-secret=ab-info',
        '--keys-secret=ab-keys',
        '--database-url-secret=ab-db',
        '--service-account=job@acme-prod.iam.gserviceaccount.com',
        '--scheduler-service-account=sched@acme-prod.iam.gserviceaccount.com',
        '--cloudsql-instance=acme-prod:us-central1:main',
      ],
      {},
    );
    expect(r.code, r.stderr).toBe(0);
    const { code, calls } = await runScript(r.stdout, {});
    expect(code).toBe(0);
    const job = calls[1]!;
    expect(job.flags).toMatchObject({
      project: 'acme-prod',
      region: 'us-central1',
      'task-timeout': '245s',
      'service-account': 'job@acme-prod.iam.gserviceaccount.com',
      'set-cloudsql-instances': 'acme-prod:us-central1:main',
      'set-secrets':
        'ALARMBOX_INFO=ab-info:latest,ALARMBOX_ENCRYPTION_KEYS=ab-keys:latest,DATABASE_URL=ab-db:latest',
    });
    expect(job.flags.args).toBe(
      'refresh-token,--log-format=json,--retries=1,--retry-delay=5s,--timeout=2m,--skip-if-fresh=3h',
    );
    expect(calls[3]?.flags).toMatchObject({
      schedule: '30 */6 * * *',
      'time-zone': 'UTC',
      'oauth-service-account-email': 'sched@acme-prod.iam.gserviceaccount.com',
    });
  });

  it('kubernetes: a CronJob that never overlaps, with deadlines, a bounded backoff and secrets from a Secret', async () => {
    const r = await runCli(
      [
        'deploy-manifest',
        '--target',
        'kubernetes',
        '--image',
        'ghcr.io/example/alarmbox-auth:1.2',
        '--namespace',
        'ops',
      ],
      {},
    );
    expect(r.code, r.stderr).toBe(0);
    // The CronJob is the first document (the PrometheusRule follows: tests/jobs/alert-manifest.test.ts).
    const doc = parseAllDocuments(r.stdout)[0]?.toJS() as {
      apiVersion: string;
      kind: string;
      metadata: { name: string; namespace: string };
      spec: {
        schedule: string;
        timeZone: string;
        concurrencyPolicy: string;
        startingDeadlineSeconds: number;
        jobTemplate: {
          spec: {
            backoffLimit: number;
            activeDeadlineSeconds: number;
            podFailurePolicy: {
              rules: { action: string; onExitCodes?: { operator: string; values: number[] } }[];
            };
            template: {
              spec: {
                restartPolicy: string;
                containers: {
                  image: string;
                  args: string[];
                  env: {
                    name: string;
                    value?: string;
                    valueFrom?: { secretKeyRef: { name: string; key: string } };
                  }[];
                }[];
              };
            };
          };
        };
      };
    };
    expect(doc).toMatchObject({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'alarmbox-refresh-token', namespace: 'ops' },
      spec: {
        schedule: '0 */12 * * *',
        timeZone: 'Asia/Tokyo',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 3600,
      },
    });
    const job = doc.spec.jobTemplate.spec;
    expect(job.backoffLimit).toBe(1);
    expect(job.activeDeadlineSeconds).toBe(425);
    expect(job.podFailurePolicy.rules[0]).toEqual({
      action: 'FailJob',
      onExitCodes: { operator: 'In', values: [2, 3, 4] },
    });
    const pod = job.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers).toHaveLength(1);
    const container = pod.containers[0]!;
    expect(container.image).toBe('ghcr.io/example/alarmbox-auth:1.2');
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value ?? e.valueFrom?.secretKeyRef]));
    expect(env).toEqual({
      ALARMBOX_ENV: 'production',
      ALARMBOX_INFO: { name: 'alarmbox', key: 'alarmbox-info' },
      ALARMBOX_ENCRYPTION_KEYS: { name: 'alarmbox', key: 'alarmbox-encryption-keys' },
      DATABASE_URL: { name: 'alarmbox', key: 'alarmbox-database-url' },
    });
    expect(container.args).toEqual([
      'refresh-token',
      '--log-format=json',
      '--retries=2',
      '--retry-delay=5s',
      '--timeout=5m',
      '--skip-if-fresh=6h',
    ]);
    await expectAcceptedByCli(container.args);
  });

  it.each([
    [['--target', 'nomad'], '--target'],
    [['--target', 'kubernetes', '--schedule', 'every day'], '--schedule'],
    [['--target', 'kubernetes', '--timezone', 'Nowhere/City'], '--timezone'],
    [['--target', 'kubernetes', '--name', 'Bad_Name'], '--name'],
    [['--target', 'cloud-run', '--image', 'x"; rm -rf /'], '--image'],
  ])('a wrong option %j: exit 2 naming it', async (args, option) => {
    const r = await runCli(['deploy-manifest', ...args], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(option);
    expect(r.stdout).toBe('');
  });
  describe('alerts', () => {
    interface Policy {
      displayName: string;
      severity: string;
      combiner: string;
      documentation: { content: string; mimeType: string };
      conditions: {
        displayName: string;
        conditionMatchedLog?: { filter: string; labelExtractors: Record<string, string> };
        conditionThreshold?: {
          filter: string;
          aggregations: { alignmentPeriod: string; perSeriesAligner: string; crossSeriesReducer: string }[];
          comparison: string;
          thresholdValue: number;
        };
      }[];
      alertStrategy: { notificationRateLimit?: { period: string }; autoClose: string };
    }
    const words = (calls: GcloudCall[]) => calls.map((c) => c.words.slice(0, 4).join(' '));

    it('cloud-run: a log-based metric for exit 5 and two policies, created then updated, from files gcloud reads', async () => {
      const r = await runCli(['deploy-manifest', '--target', 'cloud-run', '--project', 'my-proj'], {});
      expect(r.code, r.stderr).toBe(0);
      const created = await runScript(r.stdout, {
        NOTIFICATION_CHANNELS: 'projects/my-proj/notificationChannels/7',
      });
      expect(created.code, created.stderr).toBe(0);
      expect(words(created.calls.slice(4))).toEqual([
        'logging metrics describe alarmbox_refresh_token_temporary_failures',
        'logging metrics create alarmbox_refresh_token_temporary_failures',
        'monitoring policies list',
        'monitoring policies create',
        'monitoring policies list',
        'monitoring policies create',
      ]);
      const metric = created.calls[5]!;
      expect(metric.flags['log-filter']).toBe(
        'resource.type="cloud_run_job" AND resource.labels.job_name="alarmbox-refresh-token" AND jsonPayload.job="refresh-token" AND jsonPayload.event="end" AND jsonPayload.exitCode=5',
      );
      expect(created.calls[6]?.flags.filter).toBe(
        'displayName="alarmbox-refresh-token: 再認可が必要 (終了コード 4)"',
      );
      expect(created.calls[7]?.flags['notification-channels']).toBe(
        'projects/my-proj/notificationChannels/7',
      );

      expect(created.files).toHaveLength(2);
      const [reauth, temporary] = created.files.map((text) => parseAllDocuments(text)[0]?.toJS() as Policy);
      expect(reauth).toMatchObject({
        displayName: 'alarmbox-refresh-token: 再認可が必要 (終了コード 4)',
        severity: 'CRITICAL',
        combiner: 'OR',
        alertStrategy: { notificationRateLimit: { period: '3600s' } },
      });
      expect(reauth?.conditions[0]?.conditionMatchedLog?.filter).toContain('jsonPayload.exitCode=4');
      expect(reauth?.documentation.content).toContain('docs/operations.md「再認可の手順」');
      expect(temporary).toMatchObject({
        severity: 'WARNING',
        displayName: expect.stringContaining('終了コード 5'),
      });
      expect(temporary?.conditions[0]?.conditionThreshold).toMatchObject({
        filter:
          'resource.type="cloud_run_job" AND metric.type="logging.googleapis.com/user/alarmbox_refresh_token_temporary_failures"',
        aggregations: [
          { alignmentPeriod: '86400s', perSeriesAligner: 'ALIGN_SUM', crossSeriesReducer: 'REDUCE_SUM' },
        ],
        comparison: 'COMPARISON_GT',
        thresholdValue: 2,
      });

      // Again when they exist: update in place (the policy found by its display name), on the beta track if told.
      const updated = await runScript(r.stdout, { GCLOUD_EXISTS: '1', MONITORING_TRACK: 'beta' });
      expect(updated.code, updated.stderr).toBe(0);
      expect(words(updated.calls.slice(4))).toEqual([
        'logging metrics describe alarmbox_refresh_token_temporary_failures',
        'logging metrics update alarmbox_refresh_token_temporary_failures',
        'beta monitoring policies list',
        'beta monitoring policies update',
        'beta monitoring policies list',
        'beta monitoring policies update',
      ]);
      expect(updated.calls[7]?.words[4]).toMatch(/^projects\/p\/alertPolicies\//);
      expect(updated.calls[7]?.flags['set-notification-channels']).toBeUndefined();
    });

    it('cloud-run --no-alerts: only the job and its scheduler', async () => {
      const r = await runCli(
        ['deploy-manifest', '--target', 'cloud-run', '--project', 'p', '--no-alerts'],
        {},
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toContain('monitoring');
      const { code, calls } = await runScript(r.stdout, {});
      expect(code).toBe(0);
      expect(calls).toHaveLength(4);
    });

    it('kubernetes: a PrometheusRule after the CronJob, on the metrics as Prometheus names them', async () => {
      const r = await runCli(['deploy-manifest', '--target', 'kubernetes', '--namespace', 'ops'], {});
      expect(r.code, r.stderr).toBe(0);
      const docs = parseAllDocuments(r.stdout);
      expect(docs.map((d) => d.errors)).toEqual([[], []]);
      const rule = docs[1]?.toJS() as {
        apiVersion: string;
        kind: string;
        metadata: { name: string; namespace: string };
        spec: {
          groups: {
            name: string;
            rules: { alert: string; expr: string; for?: string; labels: { severity: string } }[];
          }[];
        };
      };
      expect(rule).toMatchObject({
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: 'alarmbox-refresh-token-alerts', namespace: 'ops' },
      });
      const rules = Object.fromEntries(rule.spec.groups[0]!.rules.map((x) => [x.alert, x]));
      expect(Object.keys(rules)).toEqual([
        'AlarmboxReauthorizationRequired',
        'AlarmboxRefreshTemporaryFailures',
        'AlarmboxTokenNearExpiry',
      ]);
      expect(rules.AlarmboxReauthorizationRequired).toMatchObject({ labels: { severity: 'critical' } });
      expect(rules.AlarmboxReauthorizationRequired?.expr).toContain(
        'increase(alarmbox_token_refreshes_total{alarmbox_refresh_outcome="reauthorization_required"}[30m])',
      );
      expect(rules.AlarmboxRefreshTemporaryFailures).toMatchObject({
        labels: { severity: 'warning' },
        expr: 'sum(increase(alarmbox_token_refreshes_total{alarmbox_refresh_outcome=~"temporary|lock_timeout"}[24h])) >= 3',
      });
      expect(rules.AlarmboxTokenNearExpiry).toMatchObject({
        labels: { severity: 'warning' },
        expr: 'min({__name__=~"alarmbox_token_time_to_expiry(_seconds)?"}) < 300',
        for: '10m',
      });

      const bare = await runCli(['deploy-manifest', '--target', 'kubernetes', '--no-alerts'], {});
      expect(parseAllDocuments(bare.stdout)).toHaveLength(1);
    });
  });
});
