// `alarmbox deploy-manifest`: the Cloud Run script is run by bash with a stand-in `gcloud` that records its
// argv (so quoting and the create/update choice are what bash really does); the Kubernetes CronJob is
// parsed as YAML. Both hand the job a command line that the real CLI accepts.

import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
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
    return { ...result, calls };
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
    expect(created.calls.map((c) => c.words.slice(0, 4).join(' '))).toEqual([
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
    const doc = parse(r.stdout) as {
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
});
