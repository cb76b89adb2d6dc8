// The library's metrics and spans through a real OpenTelemetry SDK with in-memory exporters, for real refreshes
// against the emulator on SQLite: the counter by outcome and trigger, the histograms, the gauge, the spans and
// their attributes, and no token, code or secret in any of it. The SDK is registered globally for this file only
// (workers are not isolated): afterAll unregisters it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderPrometheusRule } from '../../src/apps/jobs/alert-manifest.ts';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import {
  LOCK_WAIT,
  prepareTelemetry,
  REFRESHES,
  TELEMETRY_NAME,
  TIME_TO_EXPIRY,
  TOKEN_REQUEST,
} from '../../src/telemetry/telemetry.ts';
import { storedPair, useEmulatorWorld } from '../support/alarmbox.ts';
import { expectReason } from '../support/rejections.ts';

const spans = new InMemorySpanExporter();
const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
});
const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
const meterProvider = new MeterProvider({ readers: [reader] });

/** Every secret the file has seen: the registered and refreshed pairs, the codes, the client secret. */
const secrets = new Set<string>();

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  await prepareTelemetry();
});

afterAll(async () => {
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
  trace.disable();
  metrics.disable();
  context.disable();
});

async function collected(): Promise<MetricData[]> {
  const { resourceMetrics } = await reader.collect();
  const scope = resourceMetrics.scopeMetrics.find((s) => s.scope.name === TELEMETRY_NAME);
  return scope?.metrics ?? [];
}

async function metric(name: string): Promise<MetricData | undefined> {
  return (await collected()).find((m) => m.descriptor.name === name);
}

/** The counter's cumulative value for one outcome and trigger (0 before the first). */
async function refreshCount(outcome: string, trigger: string): Promise<number> {
  const counter = await metric(REFRESHES);
  const point = counter?.dataPoints.find(
    (p) =>
      p.attributes['alarmbox.refresh.outcome'] === outcome &&
      p.attributes['alarmbox.refresh.trigger'] === trigger,
  );
  return typeof point?.value === 'number' ? point.value : 0;
}

/** How many values a histogram holds for these attributes. */
async function histogramCount(name: string, attributes: Record<string, string>): Promise<number> {
  const histogram = await metric(name);
  if (histogram?.dataPointType !== DataPointType.HISTOGRAM) return 0;
  const point = histogram.dataPoints.find((p) =>
    Object.entries(attributes).every(([k, v]) => p.attributes[k] === v),
  );
  return point?.value.count ?? 0;
}

function finished(name: string): ReadableSpan[] {
  return spans.getFinishedSpans().filter((s) => s.name === name);
}

describe('OpenTelemetry metrics and spans (SQLite, emulator)', () => {
  let emulator: RunningEmulator;
  let alarmbox: Toolkit;

  useEmulatorWorld(
    {
      databaseUrl: () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'alarmbox-otel-')), 'otel.db')}`,
      keys: generateKeySpec('o1'),
      alarmbox: { httpTimeoutMs: 2_000 },
    },
    (world) => {
      ({ emulator, alarmbox } = world);
      secrets.add(emulator.options.clientSecret);
    },
  );

  beforeEach(async () => {
    spans.reset();
    const pair = await storedPair(alarmbox);
    secrets.add(pair.access).add(pair.refresh);
  });

  it('a refresh that stores a pair: counter ok/manual, both histograms, spans refresh > request, save', async () => {
    const before = await refreshCount('ok', 'manual');
    const requests = await histogramCount(TOKEN_REQUEST, {
      'alarmbox.grant_type': 'refresh_token',
      'alarmbox.refresh.outcome': 'ok',
    });
    const waits = await histogramCount(LOCK_WAIT, { 'alarmbox.lock.outcome': 'acquired' });
    const result = await alarmbox.tokens.refresh({ force: true });
    secrets.add(result.accessToken).add((await storedPair(alarmbox)).refresh);
    expect(await refreshCount('ok', 'manual'), 'ok/manual counted once').toBe(before + 1);
    expect(
      await histogramCount(TOKEN_REQUEST, {
        'alarmbox.grant_type': 'refresh_token',
        'alarmbox.refresh.outcome': 'ok',
      }),
      'one token request recorded',
    ).toBe(requests + 1);
    expect(await histogramCount(LOCK_WAIT, { 'alarmbox.lock.outcome': 'acquired' }), 'one lock wait').toBe(
      waits + 1,
    );

    const [refresh] = finished('alarmbox.token.refresh');
    const [request] = finished('alarmbox.token.request');
    const [save] = finished('alarmbox.token.save');
    expect(refresh?.attributes).toEqual({
      'alarmbox.refresh.trigger': 'manual',
      'alarmbox.refresh.outcome': 'ok',
    });
    const url = new URL(emulator.url);
    expect(request?.attributes).toEqual({
      'http.request.method': 'POST',
      'server.address': url.hostname,
      'server.port': Number(url.port),
      'url.full': `${url.origin}/oauth/token`,
      'alarmbox.grant_type': 'refresh_token',
      'http.response.status_code': 200,
    });
    expect(request?.kind, 'a client span').toBe(2);
    expect(save?.attributes).toEqual({ 'alarmbox.save.kind': 'refreshed' });
    // The request and the save are children of the refresh (one trace).
    expect(request?.parentSpanContext?.spanId).toBe(refresh?.spanContext().spanId);
    expect(save?.parentSpanContext?.spanId).toBe(refresh?.spanContext().spanId);
  });

  it('a 503 from the token endpoint: counter temporary, the request span failed with status 503', async () => {
    const before = await refreshCount('temporary', 'manual');
    const requests = await histogramCount(TOKEN_REQUEST, { 'alarmbox.refresh.outcome': 'temporary' });
    emulator.setFaults({ token: { status: 503 } });
    await expectReason(alarmbox.tokens.refresh({ force: true }), 'temporary');
    emulator.setFaults({});
    expect(await refreshCount('temporary', 'manual'), 'temporary/manual counted once').toBe(before + 1);
    expect(await histogramCount(TOKEN_REQUEST, { 'alarmbox.refresh.outcome': 'temporary' })).toBe(
      requests + 1,
    );
    const [request] = finished('alarmbox.token.request');
    expect(request?.attributes['http.response.status_code']).toBe(503);
    expect(request?.attributes['error.type']).toBe('temporary');
    expect(request?.status.code, 'status error').toBe(2);
    expect(finished('alarmbox.token.refresh')[0]?.attributes).toMatchObject({
      'alarmbox.refresh.outcome': 'temporary',
      'error.type': 'temporary',
    });
    expect(finished('alarmbox.token.save'), 'nothing saved').toEqual([]);
  });

  it('a revoked refresh token (invalid_grant): counter reauthorization_required', async () => {
    const before = await refreshCount('reauthorization_required', 'batch');
    await alarmbox.client.revokeToken((await storedPair(alarmbox)).refresh, 'refresh_token');
    await expectReason(
      alarmbox.tokens.refresh({ force: true, trigger: 'batch' }),
      'reauthorization_required',
    );
    expect(await refreshCount('reauthorization_required', 'batch'), 'counted once').toBe(before + 1);
    const [request] = finished('alarmbox.token.request');
    expect(request?.attributes['http.response.status_code']).toBe(400);
    expect(request?.attributes['error.type']).toBe('reauthorization_required');
  });

  it('a refresh that was not needed: counter skipped', async () => {
    const before = await refreshCount('skipped', 'manual');
    const result = await alarmbox.tokens.refresh();
    expect(result.refreshed).toBe(false);
    expect(await refreshCount('skipped', 'manual'), 'skipped counted once').toBe(before + 1);
    expect(finished('alarmbox.token.request'), 'no request').toEqual([]);
  });

  it('an expiring token read by an app: a read span, then an online refresh', async () => {
    await alarmbox.store.markExpired();
    const before = await refreshCount('ok', 'online');
    secrets.add(await alarmbox.tokens.getValidAccessToken());
    secrets.add((await storedPair(alarmbox)).refresh);
    expect(await refreshCount('ok', 'online'), 'ok/online counted once').toBe(before + 1);
    expect(finished('alarmbox.token.read')).toHaveLength(1);
    expect(finished('alarmbox.token.refresh')[0]?.attributes['alarmbox.refresh.trigger']).toBe('online');
  });

  it('the instrumentation scope: alarmbox-auth at the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const { resourceMetrics } = await reader.collect();
    const scope = resourceMetrics.scopeMetrics.find((s) => s.scope.name === TELEMETRY_NAME)?.scope;
    expect(scope).toMatchObject({ name: 'alarmbox-auth', version });
  });

  it('the gauge: seconds until the expiry of the token this process last read', async () => {
    await alarmbox.tokens.getValidAccessToken();
    const expiredAt = (await alarmbox.store.getInstance()).expiredAt;
    if (expiredAt === null) throw new Error('the registered pair has no expiry');
    const gauge = await metric(TIME_TO_EXPIRY);
    expect(gauge?.descriptor.unit).toBe('s');
    const value = gauge?.dataPoints[0]?.value;
    expect(typeof value).toBe('number');
    const expected = (expiredAt.getTime() - Date.now()) / 1000;
    expect(Math.abs((value as number) - expected), `gauge ${value} vs ${expected}`).toBeLessThan(5);
    expect(expected).toBeGreaterThan(3_000);
  });

  it('an API call: a client span named by method and path template, without the id or the query', async () => {
    const created = await alarmbox.api.creditChecks.create({ corporation_number: '0000000000001' });
    await alarmbox.api.creditChecks.get(created.credit_check_id, { withPdf: true });
    const names = spans.getFinishedSpans().map((s) => s.name);
    expect(names).toContain('alarmbox.api POST /ps/v1/credit_checks');
    expect(names).toContain('alarmbox.api GET /ps/v1/credit_checks/{id}');
    const [get] = finished('alarmbox.api GET /ps/v1/credit_checks/{id}');
    expect(get?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.template': '/ps/v1/credit_checks/{id}',
      'http.response.status_code': 200,
      'alarmbox.api.attempts': 1,
    });
    const seen = JSON.stringify({ name: get?.name, attributes: get?.attributes, events: get?.events });
    expect(seen).not.toContain(`/credit_checks/${created.credit_check_id}`);
    expect(seen).not.toContain('with_pdf');
  });

  it('a code exchange: an authorization_code request and an initial save', async () => {
    const code = emulator.issueAuthorizationCode();
    secrets.add(code);
    await alarmbox.exchangeCode(code);
    const pair = await storedPair(alarmbox);
    secrets.add(pair.access).add(pair.refresh);
    expect(finished('alarmbox.token.request')[0]?.attributes['alarmbox.grant_type']).toBe(
      'authorization_code',
    );
    expect(finished('alarmbox.token.save')[0]?.attributes['alarmbox.save.kind']).toBe('initial');
  });

  it('no token, code or secret in any span name, attribute, event or metric', async () => {
    // Everything the earlier tests exported, plus one more refresh now.
    await alarmbox.tokens.refresh({ force: true });
    const pair = await storedPair(alarmbox);
    secrets.add(pair.access).add(pair.refresh);
    const exported = JSON.stringify({
      spans: spans
        .getFinishedSpans()
        .map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })),
      metrics: await collected(),
    });
    expect(secrets.size, 'secrets collected').toBeGreaterThan(8);
    for (const secret of secrets) {
      if (secret.length < 8) continue;
      expect(exported.includes(secret), 'a secret in the telemetry').toBe(false);
    }
  });

  it("Prometheus (the SDK's own serializer) names the series as the alerts of deploy-manifest query them", async () => {
    // The earlier tests recorded ok, temporary and reauthorization_required refreshes and the gauge. The
    // PrometheusRule is written against Prometheus's names, which the pipeline derives: the SDK's serializer (an
    // app's /metrics) gives `_total` to counters but no unit suffix; the OpenTelemetry Collector adds `_seconds`.
    // A rename on either side would leave an alert that never fires.
    const exposition = new PrometheusSerializer().serialize((await reader.collect()).resourceMetrics);
    const seriesNames = new Set(exposition.match(/^alarmbox_[a-z_]+(?=[{ ])/gm) ?? []);
    const rule = parse(
      renderPrometheusRule({ name: 'alarmbox-refresh-token', periodMs: 12 * 3_600_000 }),
    ) as {
      spec: { groups: { rules: { alert: string; expr: string }[] }[] };
    };
    const exprs = rule.spec.groups.flatMap((g) => g.rules.map((r) => r.expr));
    // Each metric selector of the rules: a bare name before `{`, or a `__name__=~"…"` pattern.
    const selectors = exprs.flatMap((expr) => [
      ...[...expr.matchAll(/(?<![="\w])(alarmbox_[a-z_]+)\{/g)].map((m) => new RegExp(`^${m[1]}$`)),
      ...[...expr.matchAll(/__name__=~"([^"]+)"/g)].map((m) => new RegExp(`^(?:${m[1]})$`)),
    ]);
    expect(selectors.length, 'metric selectors in the rules').toBeGreaterThanOrEqual(4);
    for (const selector of selectors) {
      const matched = [...seriesNames].filter((name) => selector.test(name));
      expect(matched, `a series of the SDK's exposition for ${selector}`).not.toEqual([]);
    }
    const gauge = selectors.find((selector) => selector.source.includes('time_to_expiry'));
    expect(gauge?.test('alarmbox_token_time_to_expiry_seconds'), "the Collector's name of the gauge").toBe(
      true,
    );
    for (const outcome of ['reauthorization_required', 'temporary']) {
      expect(exposition, `the label value the alerts select: ${outcome}`).toContain(
        `alarmbox_refresh_outcome="${outcome}"`,
      );
    }
  });
});
