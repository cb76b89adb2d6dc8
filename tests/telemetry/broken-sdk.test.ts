// An SDK that throws (a bug, a broken processor) never costs what AlarmBox issued: the refresh still stores the new
// pair and answers, the API call still answers, and the failure is said once as an ALARMBOX_TELEMETRY warning.
// The providers registered here are the API's own interfaces, implemented to throw; afterAll unregisters them
// (workers are not isolated).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MeterProvider, metrics, type TracerProvider, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { prepareTelemetry } from '../../src/telemetry/telemetry.ts';
import { storedPair, useEmulatorWorld } from '../support/alarmbox.ts';

const broken = (what: string) => () => {
  throw new Error(`broken ${what}`);
};
const tracerProvider = {
  getTracer: () => ({ startSpan: broken('tracer'), startActiveSpan: broken('tracer') }),
};
const meterProvider = { getMeter: broken('meter') };
const warnings: Error[] = [];
const onWarning = (warning: Error) => {
  if ((warning as NodeJS.ErrnoException).code === 'ALARMBOX_TELEMETRY') warnings.push(warning);
};

beforeAll(async () => {
  process.on('warning', onWarning);
  trace.setGlobalTracerProvider(tracerProvider as unknown as TracerProvider);
  metrics.setGlobalMeterProvider(meterProvider as unknown as MeterProvider);
  await prepareTelemetry();
});
afterAll(() => {
  process.off('warning', onWarning);
  trace.disable();
  metrics.disable();
});

describe('a throwing OpenTelemetry SDK (SQLite, emulator)', () => {
  let alarmbox: Toolkit;
  useEmulatorWorld(
    {
      databaseUrl: () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'alarmbox-otel-broken-')), 'b.db')}`,
      keys: generateKeySpec('b1'),
    },
    (world) => {
      ({ alarmbox } = world);
    },
  );

  it('a forced refresh still stores the new pair and returns it', async () => {
    const before = await storedPair(alarmbox);
    const result = await alarmbox.tokens.refresh({ force: true });
    expect(result.refreshed).toBe(true);
    const after = await storedPair(alarmbox);
    expect(after.version, 'the pair was saved').toBe(before.version + 1);
    expect(after.access).toBe(result.accessToken);
  });

  it('reads and API calls still answer', async () => {
    expect((await alarmbox.tokens.getValidAccessToken()).length).toBeGreaterThan(0);
    const created = await alarmbox.api.creditChecks.create({ corporation_number: '0000000000001' });
    expect(created.corporation_number).toBe('0000000000001');
  });

  it('the failure is said once, as an ALARMBOX_TELEMETRY warning', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    // Once per process: no other test file breaks the SDK.
    expect(warnings, 'one warning for every failure of the file').toHaveLength(1);
    expect(warnings[0]?.message).toContain('OpenTelemetry への記録に失敗しました');
    expect(warnings[0]?.message).toContain('broken');
  });
});
