// The image the repository's Dockerfile builds, proven without a Docker engine (the CI machines have none): the
// Dockerfile replayed step by step in a temporary folder (tests/support/image.ts: its stages, COPY of the build
// context minus .dockerignore, its RUN commands, `npm ci --omit=dev` for the run-time dependencies, its ENV and
// `USER node` as uid 1000), and the replayed image then runs the job that `deploy-manifest` deploys, against the
// emulator and PostgreSQL. A recipe that forgets a file the command needs, or needs a devDependency at run time,
// fails here. What the replay cannot show (the base image's own files, a real `docker build`): docs/operations.md.
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { OTLP_PACKAGES } from '../../src/apps/jobs/otlp-export.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { apiStatus, obtainCode } from '../support/authorize.ts';
import { logEvents } from '../support/cli-process.ts';
import { createTestDatabase, describeWithServer, type TestDatabase } from '../support/databases.ts';
import { isIgnored, parseDockerfile } from '../support/dockerfile.ts';
import { type ImageRun, type ReplayedImage, removeReplay, replayImage } from '../support/image.ts';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';
import { expectNoSecrets, openRegistered, type Registered } from '../support/registered.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

/** The container of the CronJob that `deploy-manifest --target kubernetes` prints. */
interface Container {
  readonly args: string[];
  readonly env: { readonly name: string; readonly value?: string }[];
}

describe('the Dockerfile parser', () => {
  it('joins continued lines, skips comments, reads the instructions the Dockerfile uses', () => {
    const [build, image] = parseDockerfile(
      [
        '# a comment',
        'FROM node:24-slim AS build',
        'WORKDIR /app',
        'RUN npm ci \\',
        '  # between continued lines',
        '  && npm run build',
        'FROM node:24-slim',
        'ENV A=1 B=two',
        'COPY --from=build /app/dist ./dist',
        'USER node',
        'ENTRYPOINT ["node", "/app/bin/alarmbox.js"]',
        'CMD ["--help"]',
      ].join('\n'),
    );
    expect(build).toEqual({
      base: 'node:24-slim',
      name: 'build',
      steps: [
        { kind: 'WORKDIR', path: '/app' },
        { kind: 'RUN', command: 'npm ci  && npm run build' },
      ],
    });
    expect(image?.steps).toEqual([
      { kind: 'ENV', vars: { A: '1', B: 'two' } },
      { kind: 'COPY', from: 'build', sources: ['/app/dist'], dest: './dist' },
      { kind: 'USER', user: 'node' },
      { kind: 'ENTRYPOINT', args: ['node', '/app/bin/alarmbox.js'] },
      { kind: 'CMD', args: ['--help'] },
    ]);
  });

  it('refuses what the replay does not know, rather than skip it', () => {
    expect(() => parseDockerfile('FROM node:24\nARG X=1')).toThrow(/line 2: ARG is not understood/);
    expect(() => parseDockerfile('FROM node:24\nCOPY --chown=node a b')).toThrow(/--chown/);
    expect(() => parseDockerfile('FROM node:24\nENTRYPOINT node /app/bin/alarmbox.js')).toThrow(/exec form/);
  });

  it('reads .dockerignore patterns as Docker does: anchored at the root, folders with their contents', () => {
    expect(isIgnored('node_modules/pg/index.js', ['node_modules'])).toBe(true);
    expect(isIgnored('src/node_modules', ['node_modules'])).toBe(false);
    expect(isIgnored('a.db', ['*.db'])).toBe(true);
    expect(isIgnored('x/a.db', ['*.db'])).toBe(false);
    expect(isIgnored('x/a.db', ['**/*.db'])).toBe(true);
  });
});

describeWithServer('postgres', 'the image of the Dockerfile, replayed', () => {
  let work: string;
  let image: ReplayedImage;
  let emulator: RunningEmulator;
  let database: TestDatabase;
  let setup: Registered | undefined;
  const keys = generateKeySpec('i1');
  const outputs: string[] = [];
  const run = async (args: readonly string[], env: Record<string, string> = {}): Promise<ImageRun> => {
    const result = await image.run(args, env);
    outputs.push(result.stdout, result.stderr);
    return result;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'alarmbox-image-'));
    [image, emulator, database] = await Promise.all([
      replayImage(root, work),
      startEmulator({ port: 0, autoApprove: true, quiet: true }),
      createTestDatabase('postgres'),
    ]);
  }, 180_000);

  afterAll(async () => {
    await setup?.collect().catch(() => undefined);
    if (setup !== undefined) expectNoSecrets(outputs, setup.secrets);
    await setup?.close();
    await emulator?.close();
    await database?.drop();
    if (work !== undefined) removeReplay(work);
  });

  it('holds the build, the bin and the run-time dependencies only, and runs as the node user', async () => {
    const app = join(image.root, 'app');
    expect(readdirSync(app).sort()).toEqual(['bin', 'dist', 'node_modules', 'package.json']);
    // No src/: bin/run.js runs the compiled dist/ as an installed package does.
    // Scoped packages by their full names (`@opentelemetry/api`).
    const modules = join(app, 'node_modules');
    const installed = readdirSync(modules).flatMap((name) =>
      name.startsWith('@') ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`) : [name],
    );
    const devOnly = Object.keys(manifest.devDependencies).filter(
      (name) => !(name in manifest.peerDependencies) && !name.startsWith('@opentelemetry/'),
    );
    // @types/node is there as a dependency of mysql2 (`"@types/node": ">= 8"`), not as a devDependency.
    expect(installed.filter((name) => devOnly.includes(name) && name !== '@types/node')).toEqual([]);
    // The database drivers are there: the job reaches whichever database DATABASE_URL names.
    expect(installed).toEqual(expect.arrayContaining(Object.keys(manifest.peerDependencies)));
    // And the job's OTLP export (OTEL_EXPORTER_OTLP_ENDPOINT): scripts/image-manifest.js.
    expect(installed).toEqual(expect.arrayContaining([...OTLP_PACKAGES]));

    const version = await run(['--version']);
    expect(version.stdout.trim(), version.stderr).toBe(manifest.version);
    if (process.getuid?.() === 0) {
      expect(image.confinement).toBe('uid 1000');
      // What the process wrote (bin/run.js's compile cache, in TMPDIR) is the node user's; /app stays root's.
      const tmp = join(image.root, 'tmp');
      const owners = readdirSync(tmp).map((name) => statSync(join(tmp, name)).uid);
      expect(owners.length).toBeGreaterThan(0);
      expect(new Set(owners)).toEqual(new Set([1000]));
      expect(statSync(app).uid).toBe(0);
    }
    // CMD: with no arguments the image prints the help.
    const help = await run([]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('refresh-token');
  });

  it('runs the job deploy-manifest deploys on PostgreSQL: migrate, save-token, then refresh-token', async () => {
    const printed = await run(['deploy-manifest', '--target', 'kubernetes']);
    expect(printed.code, printed.stderr).toBe(0);
    // The CronJob is the first document (the PrometheusRule of the alerts follows).
    const cronJob = parseAllDocuments(printed.stdout)[0]?.toJS() as {
      spec: { jobTemplate: { spec: { template: { spec: { containers: Container[] } } } } };
    };
    const [container] = cronJob.spec.jobTemplate.spec.template.spec.containers;
    if (container === undefined) throw new Error('the CronJob has no container');
    // The manifest's own values (ALARMBOX_ENV), then its secrets; the emulator stands in for AlarmBox.
    const env: Record<string, string> = Object.fromEntries(
      container.env.flatMap(({ name, value }) => (value === undefined ? [] : [[name, value]])),
    );
    Object.assign(env, {
      ALARMBOX_INFO: JSON.stringify({
        client_id: emulator.options.clientId,
        client_secret: emulator.options.clientSecret,
      }),
      ALARMBOX_ENCRYPTION_KEYS: keys,
      DATABASE_URL: database.url,
      ALARMBOX_BASE_URL: emulator.url,
    });
    expect(Object.keys(env)).toEqual(expect.arrayContaining(container.env.map(({ name }) => name)));

    const migrated = await run(['migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    const saved = await run(['save-token', `--code=${await obtainCode(emulator)}`], env);
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toContain('トークンを保存しました');

    setup = await openRegistered(emulator, database.url, keys);
    await setup.collect();
    const before = (await setup.alarmbox.store.getInstance()).getDecryptedAccessToken();
    // Saved a moment ago, the pair is within the job's --skip-if-fresh window: make it due.
    await setup.age(24 * 3600_000);

    // The job exports to an OTLP endpoint when the OTEL_* variables name one (the image ships the SDK).
    const receiver = await startOtlpReceiver();
    const job = await run(container.args, { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    await receiver.close();
    expect(job.code, job.stderr).toBe(0);
    // In protobuf, the default: the image's -otlp-proto exporters did the sending.
    expect(new Set(receiver.bodies.map((b) => b.contentType))).toEqual(new Set(['application/x-protobuf']));
    expect(receiver.metrics().map((m) => m.name)).toContain('alarmbox.token.refreshes');
    expect(receiver.spans().map((s) => s.name)).toContain('alarmbox.token.request');
    expect(logEvents(job.stdout).at(-1)).toMatchObject({
      job: 'refresh-token',
      event: 'end',
      outcome: 'ok',
      code: 'refreshed',
      exitCode: 0,
    });
    await setup.collect();
    const after = (await setup.alarmbox.store.getInstance()).getDecryptedAccessToken();
    expect(after).not.toBe(before);
    expect(await apiStatus(emulator, after)).toBe(200);
  });
});
