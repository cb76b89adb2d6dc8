// docs/design.md「OpenTelemetry」: `@opentelemetry/api` is installed here (a devDependency), yet a process that
// registered no SDK never loads it, on `import` + the first `getValidAccessToken()` or a refresh; one that registered
// an SDK first does, and records. Real child processes (module loads seen through module.registerHooks), SQLite.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { openRegistered, type Registered } from '../support/registered.ts';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The child: optionally registers an SDK, reads (and force-refreshes) the token, reports what it loaded. */
const script = (registerFirst: boolean) => `
import module from 'node:module';
const loaded = [];
module.registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
let reader;
if (${registerFirst}) {
  const { metrics } = await import('@opentelemetry/api');
  const sdk = await import('@opentelemetry/sdk-metrics');
  reader = new sdk.PeriodicExportingMetricReader({ exporter: new sdk.InMemoryMetricExporter(sdk.AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3600000 });
  metrics.setGlobalMeterProvider(new sdk.MeterProvider({ readers: [reader] }));
}
const { createToolkit } = await import(${JSON.stringify(join(ROOT, 'src/create.ts'))});
const alarmbox = createToolkit(JSON.parse(process.env.OPTIONS));
await alarmbox.tokens.getValidAccessToken();
await alarmbox.tokens.refresh({ force: true });
await alarmbox.close();
const names = reader === undefined ? [] : (await reader.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
console.log(JSON.stringify({ otel: loaded.filter((url) => url.includes('/@opentelemetry/')).length, names }));
`;

describe('the OpenTelemetry API is loaded only once an SDK has registered', () => {
  let emulator: RunningEmulator;
  let setup: Registered;
  let dir: string;
  let options: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alarmbox-otel-lazy-'));
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    const keys = generateKeySpec('l1');
    const databaseUrl = `sqlite:${join(dir, 'lazy.db')}`;
    setup = await openRegistered(emulator, databaseUrl, keys);
    await setup.register();
    options = JSON.stringify({
      env: 'dev',
      databaseUrl,
      encryptionKeys: keys,
      baseUrl: emulator.url,
      clientId: emulator.options.clientId,
      clientSecret: emulator.options.clientSecret,
    });
  });
  afterAll(async () => {
    await setup?.close();
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (registerFirst: boolean) => {
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script(registerFirst)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', OPTIONS: options },
    });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { otel: number; names: string[] };
  };

  it('no SDK: a read and a refresh load no @opentelemetry module', async () => {
    expect((await run(false)).otel, '@opentelemetry modules loaded').toBe(0);
  });

  it('an SDK registered first: the refresh is counted', async () => {
    const seen = await run(true);
    expect(seen.otel).toBeGreaterThan(0);
    expect(seen.names).toEqual(
      expect.arrayContaining(['alarmbox.token.refreshes', 'alarmbox.token.time_to_expiry']),
    );
  });
});
