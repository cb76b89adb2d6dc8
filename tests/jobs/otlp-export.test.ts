// The job's OpenTelemetry export: `refresh-token` with OTEL_EXPORTER_OTLP_ENDPOINT sends its metrics and spans over
// OTLP/HTTP (protobuf by default, JSON on request) to a receiver this test starts on 127.0.0.1, which decodes them,
// flushed before the exit (exit code unchanged); a setting it cannot honour, or the SDK packages missing, is
// refused with exit 2. Real CLI processes, the emulator,
// a SQLite file. The rendered sample of docs/operations.md「監視 (OpenTelemetry)」 is written from the real
// export to test-results/otel/job-metrics.prom.
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { otlpPackages } from '../../src/apps/jobs/otlp-export.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { runCli } from '../support/cli.ts';
import { CliProcess, logEvents } from '../support/cli-process.ts';
import {
  attributesOf,
  type OtlpReceiver,
  renderPrometheus,
  startOtlpReceiver,
} from '../support/otlp-receiver.ts';
import { expectNoSecrets, openRegistered, type Registered } from '../support/registered.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('refresh-token exports to an OTLP endpoint (SQLite)', () => {
  let emulator: RunningEmulator;
  let receiver: OtlpReceiver;
  let setup: Registered;
  let dir: string;
  const outputs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alarmbox-otlp-'));
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    setup = await openRegistered(emulator, `sqlite:${join(dir, 'otlp.db')}`, generateKeySpec('x1'));
  });
  afterAll(async () => {
    expectNoSecrets(outputs, setup.secrets);
    await setup?.close();
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
    emulator.reset();
    await setup.register();
  });

  const job = async (extra: Record<string, string>) => {
    const r = await runCli(['refresh-token', '--log-format=json'], { ...setup.env, ...extra });
    outputs.push(r.stdout, r.stderr);
    await setup.collect();
    await receiver.close();
    return r;
  };

  it('no protocol set: sends the refresh counter, the histograms, the gauge and the spans in protobuf, exit 0', async () => {
    const r = await job({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'alarmbox-refresh-job',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(logEvents(r.stdout).at(-1)).toMatchObject({ event: 'end', outcome: 'ok', exitCode: 0 });
    expect(r.stderr, 'no export problem reported').not.toContain('OpenTelemetry');

    expect(new Set(receiver.bodies.map((b) => b.path))).toEqual(new Set(['/v1/metrics', '/v1/traces']));
    for (const body of receiver.bodies) expect(body.contentType, body.path).toBe('application/x-protobuf');
    expect(receiver.resourceAttributes()).toMatchObject({
      'service.name': 'alarmbox-refresh-job',
      'deployment.environment.name': 'test',
    });

    const metrics = receiver.metrics();
    const byName = new Map(metrics.map((m) => [m.name, m]));
    const refreshes = byName.get('alarmbox.token.refreshes');
    expect(refreshes?.unit).toBe('{refresh}');
    expect(
      refreshes?.sum?.dataPoints.map((p) => [attributesOf(p.attributes), p.asDouble ?? Number(p.asInt)]),
    ).toEqual([[{ 'alarmbox.refresh.outcome': 'ok', 'alarmbox.refresh.trigger': 'batch' }, 1]]);
    const request = byName.get('alarmbox.token_request.duration')?.histogram?.dataPoints[0];
    expect(attributesOf(request?.attributes)).toEqual({
      'alarmbox.grant_type': 'refresh_token',
      'alarmbox.refresh.outcome': 'ok',
    });
    expect(Number(request?.count)).toBe(1);
    expect(Number(byName.get('alarmbox.lock.wait.duration')?.histogram?.dataPoints[0]?.count)).toBe(1);
    const toExpiry = byName.get('alarmbox.token.time_to_expiry')?.gauge?.dataPoints[0]?.asDouble;
    expect(toExpiry, 'seconds to the new expiry').toBeGreaterThan(3_000);

    const names = receiver.spans().map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining(['alarmbox.token.refresh', 'alarmbox.token.request', 'alarmbox.token.save']),
    );
    expectNoSecrets(
      receiver.bodies.map((b) => b.text),
      setup.secrets,
    );

    // The rendered sample of docs/operations.md, from this real export.
    mkdirSync(join(ROOT, 'test-results', 'otel'), { recursive: true });
    writeFileSync(join(ROOT, 'test-results', 'otel', 'job-metrics.prom'), renderPrometheus(metrics));
    const spanLines = receiver
      .spans()
      .map((s) => `${s.name}  ${JSON.stringify(attributesOf(s.attributes))}`)
      .join('\n');
    writeFileSync(join(ROOT, 'test-results', 'otel', 'job-spans.txt'), `${spanLines}\n`);
  });

  it('OTEL_EXPORTER_OTLP_PROTOCOL=http/json: the same metrics and spans in JSON', async () => {
    const r = await job({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr, 'no export problem reported').not.toContain('OpenTelemetry');
    expect(new Set(receiver.bodies.map((b) => b.path))).toEqual(new Set(['/v1/metrics', '/v1/traces']));
    for (const body of receiver.bodies) expect(body.contentType, body.path).toContain('application/json');
    const refreshes = receiver.metrics().find((m) => m.name === 'alarmbox.token.refreshes');
    expect(refreshes?.sum?.dataPoints.map((p) => p.asDouble ?? Number(p.asInt))).toEqual([1]);
    expect(receiver.spans().map((s) => s.name)).toEqual(
      expect.arrayContaining(['alarmbox.token.refresh', 'alarmbox.token.request', 'alarmbox.token.save']),
    );
  });

  it("the signal's own protocol wins: METRICS_PROTOCOL=http/json beside PROTOCOL=http/protobuf", async () => {
    const r = await job({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr, 'no export problem reported').not.toContain('OpenTelemetry');
    const types = new Set(receiver.bodies.map((b) => `${b.path} ${b.contentType}`));
    expect(types).toEqual(new Set(['/v1/metrics application/json', '/v1/traces application/x-protobuf']));
    expect(receiver.metrics().map((m) => m.name)).toContain('alarmbox.token.refreshes');
    expect(receiver.spans().map((s) => s.name)).toContain('alarmbox.token.request');
  });

  it('worker: exports on its interval while running, flushes on SIGTERM, exit 0', async () => {
    await setup.age(3_600_000);
    const worker = new CliProcess(['worker', '--schedule', '*/2 * * * * *', '--timezone', 'UTC'], {
      ...setup.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRIC_EXPORT_INTERVAL: '500',
    });
    try {
      await worker.waitFor((events) => events.some((e) => e.event === 'end' && e.outcome === 'ok'), 15_000);
      // A periodic export arrives while the worker runs, before any shutdown flush.
      const deadline = Date.now() + 5_000;
      while (!receiver.bodies.some((b) => b.path === '/v1/metrics') && Date.now() < deadline)
        await sleep(100);
      expect(
        receiver.bodies.some((b) => b.path === '/v1/metrics'),
        'a periodic export',
      ).toBe(true);
      worker.signal('SIGTERM');
      const result = await worker.exited();
      outputs.push(result.stdout, result.stderr);
      expect(result.code, result.stderr).toBe(0);
    } finally {
      worker.kill();
    }
    await setup.collect();
    await receiver.close();
    const refreshes = receiver.metrics().filter((m) => m.name === 'alarmbox.token.refreshes');
    const points = refreshes.at(-1)?.sum?.dataPoints.map((p) => attributesOf(p.attributes)) ?? [];
    expect(points).toContainEqual({ 'alarmbox.refresh.outcome': 'ok', 'alarmbox.refresh.trigger': 'batch' });
    expect(receiver.spans().map((s) => s.name)).toContain('alarmbox.token.request');
    expectNoSecrets(
      receiver.bodies.map((b) => b.text),
      setup.secrets,
    );
  });

  it('a failed refresh is exported too, and the exit code stays 5', async () => {
    emulator.setFaults({ token: { status: 503 } });
    const r = await job({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ALARMBOX_JOB_RETRIES: '0' });
    emulator.setFaults({});
    expect(r.code, r.stderr).toBe(5);
    const refreshes = receiver.metrics().find((m) => m.name === 'alarmbox.token.refreshes');
    expect(refreshes?.sum?.dataPoints.map((p) => attributesOf(p.attributes))).toEqual([
      { 'alarmbox.refresh.outcome': 'temporary', 'alarmbox.refresh.trigger': 'batch' },
    ]);
  });

  it('only the signal whose endpoint is set: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT sends spans only', async () => {
    const r = await job({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces` });
    expect(r.code, r.stderr).toBe(0);
    expect(new Set(receiver.bodies.map((b) => b.path))).toEqual(new Set(['/v1/traces']));
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'http/xml'],
    ['OTEL_TRACES_EXPORTER', 'zipkin'],
    ['OTEL_METRIC_EXPORT_INTERVAL', 'soon'],
  ])('%s=%s cannot be honoured: exit 2 naming it, nothing refreshed', async (variable, value) => {
    const before = (await setup.alarmbox.store.getInstance()).version;
    const r = await runCli(['refresh-token'], {
      ...setup.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      [variable]: value,
    });
    outputs.push(r.stdout, r.stderr);
    await receiver.close();
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(variable);
    expect((await setup.alarmbox.store.getInstance()).version, 'not refreshed').toBe(before);
  });

  it.each(['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'])(
    '%s=grpc is refused: exit 2 naming it and the protocols the job speaks',
    async (variable) => {
      const before = (await setup.alarmbox.store.getInstance()).version;
      const r = await runCli(['refresh-token'], {
        ...setup.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        [variable]: 'grpc',
      });
      outputs.push(r.stdout, r.stderr);
      await receiver.close();
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${variable}=grpc には対応していません`);
      expect(r.stderr).toContain('http/protobuf (既定) と http/json');
      expect(receiver.bodies, 'nothing sent').toEqual([]);
      expect((await setup.alarmbox.store.getInstance()).version, 'not refreshed').toBe(before);
    },
  );
});

/**
 * A copy of the package (what its bin runs) beside a node_modules without the @opentelemetry packages `left`
 * says to leave out (all of them by default).
 */
function packageWithoutOtel(left: (pkg: string) => boolean = () => true): string {
  const dir = mkdtempSync(join(tmpdir(), 'alarmbox-nootel-'));
  for (const entry of ['package.json', 'bin', 'src']) {
    if (existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  mkdirSync(join(dir, 'node_modules', '@opentelemetry'), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === '@opentelemetry') continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
  for (const name of readdirSync(join(ROOT, 'node_modules', '@opentelemetry'))) {
    if (left(`@opentelemetry/${name}`)) continue;
    symlinkSync(
      join(ROOT, 'node_modules', '@opentelemetry', name),
      join(dir, 'node_modules', '@opentelemetry', name),
    );
  }
  return dir;
}

/** `alarmbox refresh-token` of the copy in `dir`, with only `env` (and no database there). */
const runCopy = (dir: string, env: Record<string, string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TZ: 'Asia/Tokyo' };
    execFile(
      process.execPath,
      [join(dir, 'bin', 'alarmbox.js'), 'refresh-token'],
      {
        env: { ...base, DATABASE_URL: `sqlite:${join(dir, 'none.db')}`, ALARMBOX_ENV: 'dev', ...env },
        cwd: dir,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });

describe('the OTLP packages are optional', () => {
  let dir: string;
  beforeAll(() => {
    dir = packageWithoutOtel();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('OTEL_EXPORTER_OTLP_ENDPOINT without them: exit 2 and the npm install command naming them', async () => {
    const r = await runCopy(dir, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('OpenTelemetry の送信に必要なパッケージ');
    const needed = otlpPackages({ metrics: 'http/protobuf', traces: 'http/protobuf' });
    expect(needed).toContain('@opentelemetry/exporter-metrics-otlp-proto');
    expect(r.stderr).toContain(`npm install ${needed.join(' ')} を実行`);
    expect(r.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
  });

  it('http/json without them: the npm install command names the JSON exporters, not the protobuf ones', async () => {
    const r = await runCopy(dir, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    expect(r.code, r.stderr).toBe(2);
    const needed = otlpPackages({ metrics: 'http/json', traces: 'http/json' });
    expect(needed).toContain('@opentelemetry/exporter-trace-otlp-http');
    expect(r.stderr).toContain(`npm install ${needed.join(' ')} を実行`);
    expect(r.stderr).not.toContain('-otlp-proto');
  });

  it('without the variable the job does not need them (the missing database is the error)', async () => {
    const r = await runCopy(dir, {});
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('OpenTelemetry');
    expect(r.stderr).toContain('none.db');
  });
});

describe('only the exporters of the chosen protocol are needed', () => {
  let dir: string;
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    dir = packageWithoutOtel((pkg) => pkg.endsWith('-otlp-proto'));
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('http/json without the protobuf exporters: the export starts (the missing database is the error)', async () => {
    const r = await runCopy(dir, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toContain('OpenTelemetry の送信に必要なパッケージ');
    expect(r.stderr).toContain('none.db');
  });

  it('the default protocol without them: exit 2 naming exactly the two protobuf exporters', async () => {
    const r = await runCopy(dir, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      'npm install @opentelemetry/exporter-metrics-otlp-proto @opentelemetry/exporter-trace-otlp-proto を実行',
    );
  });
});
