// Metrics and spans through the OpenTelemetry API, when the application has registered an SDK
// (docs/operations.md「監視 (OpenTelemetry)」, docs/design.md「OpenTelemetry」).
//
// Nothing is loaded while nothing is registered: the API keeps its registry on `globalThis` under
// `Symbol.for('opentelemetry.js.api.1')`, created by the first `setGlobal*Provider` of any copy of the API. Until
// that key exists each recording point costs one property check and records nothing; once it exists the API is
// imported (already in the module cache, since the SDK's registration loaded it) and recording starts when the
// import resolves. So an app without OpenTelemetry, or with the package installed but no SDK, pays nothing at
// start-up (the import alone took ~17 ms here) and nothing per call.
import { createRequire } from 'node:module';
import type { Attributes, Context, Counter, Histogram, MeterProvider, Span } from '@opentelemetry/api';
import { reasonOf } from '../errors.ts';
import type { FailureReason } from '../failure-reason.ts';
import { loadOtelApi, type OtelApi } from './load-api.ts';

/** The meter's and the tracer's name (instrumentation scope). */
export const TELEMETRY_NAME = 'alarmbox-auth';
/** The counter of refresh attempts, by outcome and trigger. */
export const REFRESHES = 'alarmbox.token.refreshes';
/** The histogram of waits for the refresh lease (or for a peer's refresh). */
export const LOCK_WAIT = 'alarmbox.lock.wait.duration';
/** The histogram of token endpoint requests. */
export const TOKEN_REQUEST = 'alarmbox.token_request.duration';
/** The gauge of seconds until the access token this process last read or stored expires. */
export const TIME_TO_EXPIRY = 'alarmbox.token.time_to_expiry';

/** Where the OpenTelemetry registry lives once any copy of the API has registered a provider. */
const REGISTRY = Symbol.for('opentelemetry.js.api.1');

let api: OtelApi | undefined;
let loading: Promise<void> | undefined;
let version: string | undefined;
/** Epoch ms of the expiry last seen by this process (any instance); undefined before the first read. */
let lastExpiryMs: number | undefined;

interface Instruments {
  readonly provider: MeterProvider;
  readonly refreshes: Counter;
  readonly lockWait: Histogram;
  readonly tokenRequest: Histogram;
}
let instruments: Instruments | undefined;

/**
 * Starts loading the API if an SDK (or anything) has registered with it; resolves once recording can start
 * (at once when nothing is registered). `createToolkit` calls it; recording points call it too, so an SDK
 * registered later is still picked up.
 */
export function prepareTelemetry(): Promise<void> {
  if (loading === undefined && REGISTRY in globalThis) {
    loading = loadOtelApi().then(
      (loaded) => {
        api = loaded;
      },
      (error: unknown) => {
        process.emitWarning(
          `@opentelemetry/api を読み込めなかったため、メトリクスとトレースを記録しません: ${error instanceof Error ? error.message : String(error)}`,
          { code: 'ALARMBOX_TELEMETRY' },
        );
      },
    );
  }
  return loading ?? Promise.resolve();
}

let failureReported = false;

/**
 * A failure of the SDK (a bug, a broken processor) never changes what the package does: a token received is
 * still saved, a call still answered. It is said once, as a process warning (not a secondary failure: the
 * operation's outcome is whole).
 */
function reportTelemetryFailure(error: unknown): void {
  if (failureReported) return;
  failureReported = true;
  process.emitWarning(
    `OpenTelemetry への記録に失敗しました (処理は続けます。以後の同じ失敗は表示しません): ${error instanceof Error ? error.message : String(error)}`,
    { code: 'ALARMBOX_TELEMETRY' },
  );
}

function safely(record: () => void): void {
  try {
    record();
  } catch (error) {
    reportTelemetryFailure(error);
  }
}

/** The API once loaded; undefined (and one property check) before. */
function otel(): OtelApi | undefined {
  if (api === undefined) void prepareTelemetry();
  return api;
}

function packageVersion(): string | undefined {
  if (version !== undefined) return version;
  try {
    const manifest: unknown = createRequire(import.meta.url)('alarmbox-auth/package.json');
    const found = (manifest as { version?: unknown }).version;
    version = typeof found === 'string' ? found : '';
  } catch {
    // Bundled where the package's manifest cannot be resolved: the scope has no version.
    version = '';
  }
  return version === '' ? undefined : version;
}

/** The instruments of the meter provider registered now (a new one, e.g. in tests, gets new instruments). */
function meters(otelApi: OtelApi): Instruments {
  const provider = otelApi.metrics.getMeterProvider();
  if (instruments?.provider === provider) return instruments;
  const meter = provider.getMeter(TELEMETRY_NAME, packageVersion());
  meter
    .createObservableGauge(TIME_TO_EXPIRY, {
      unit: 's',
      description:
        'このプロセスが最後に読んだ・保存したアクセストークンの有効期限までの秒数 (切れていれば負)',
    })
    .addCallback((result) => {
      if (lastExpiryMs !== undefined) result.observe((lastExpiryMs - Date.now()) / 1000);
    });
  instruments = {
    provider,
    refreshes: meter.createCounter(REFRESHES, {
      unit: '{refresh}',
      description: 'トークン更新の試行 (結果 outcome と契機 trigger ごと)',
    }),
    lockWait: meter.createHistogram(LOCK_WAIT, {
      unit: 's',
      description: '更新のロック (または他のプロセスの更新) を待った時間',
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
    }),
    tokenRequest: meter.createHistogram(TOKEN_REQUEST, {
      unit: 's',
      description: 'トークンエンドポイント (POST /oauth/token) への要求にかかった時間',
      advice: { explicitBucketBoundaries: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
    }),
  };
  return instruments;
}

/** What the counter and the histograms record as the outcome: `ok`, `skipped` or why it failed. */
export type Outcome = 'ok' | 'skipped' | FailureReason;

/** Counts one refresh attempt (`TokenService`'s `onAttempt`). */
export function countRefresh(attempt: { readonly trigger: string; readonly outcome: Outcome }): void {
  const otelApi = otel();
  if (otelApi === undefined) return;
  safely(() =>
    meters(otelApi).refreshes.add(1, {
      'alarmbox.refresh.outcome': attempt.outcome,
      'alarmbox.refresh.trigger': attempt.trigger,
    }),
  );
}

/** Records a wait for the refresh lease: `acquired`, `peer` (a peer's refresh answered it) or its failure. */
export function recordLockWait(seconds: number, outcome: 'acquired' | 'peer' | FailureReason): void {
  const otelApi = otel();
  if (otelApi === undefined) return;
  safely(() => meters(otelApi).lockWait.record(seconds, { 'alarmbox.lock.outcome': outcome }));
}

/**
 * Notes the expiry of the token just read or stored, for the gauge: a field write, whatever is registered (the
 * gauge reads it at each collection, so no collection reads the database).
 */
export function noteExpiry(expiredAt: Date | null): void {
  lastExpiryMs = expiredAt?.getTime();
  const otelApi = otel();
  // The gauge exists once the instruments do: created here too, for an app that only ever reads.
  if (otelApi !== undefined) safely(() => meters(otelApi));
}

/** What a traced operation may add to its span (no-op without an SDK). Never a token, code or secret. */
export interface SpanNote {
  set(key: string, value: string | number | boolean): void;
  /** Marks the span failed without an exception (an HTTP status >= 400): status error, `error.type`. */
  fail(errorType: string): void;
}

const NO_SPAN: SpanNote = { set: () => undefined, fail: () => undefined };

/**
 * Runs `run` in a span named `name` (the current span's child). A failure sets the span's status to error and
 * `error.type` to the failure's reason; the exception itself is not recorded (its message is for people).
 */
export function traced<T>(
  name: string,
  attributes: Attributes,
  run: (span: SpanNote) => Promise<T>,
  kind: 'client' | 'internal' = 'internal',
): Promise<T> {
  const otelApi = otel();
  if (otelApi === undefined) return run(NO_SPAN);
  let span: Span;
  let active: Context;
  try {
    const tracer = otelApi.trace.getTracer(TELEMETRY_NAME, packageVersion());
    const spanKind = kind === 'client' ? otelApi.SpanKind.CLIENT : otelApi.SpanKind.INTERNAL;
    span = tracer.startSpan(name, { kind: spanKind, attributes });
    active = otelApi.trace.setSpan(otelApi.context.active(), span);
  } catch (error) {
    reportTelemetryFailure(error);
    return run(NO_SPAN);
  }
  const note: SpanNote = {
    set: (key, value) => safely(() => span.setAttribute(key, value)),
    fail: (errorType) =>
      safely(() => {
        span.setAttribute('error.type', errorType);
        span.setStatus({ code: otelApi.SpanStatusCode.ERROR });
      }),
  };
  // `run` starts once, whatever the context manager does: a token request must never be sent twice.
  let started = false;
  let running: Promise<T>;
  try {
    running = otelApi.context.with(active, () => {
      started = true;
      return run(note);
    });
  } catch (error) {
    if (started) throw error;
    reportTelemetryFailure(error);
    running = run(note);
  }
  return running.then(
    (value) => {
      safely(() => span.end());
      return value;
    },
    (error: unknown) => {
      note.fail(reasonOf(error));
      safely(() => span.end());
      throw error;
    },
  );
}

/**
 * One token endpoint request (`POST /oauth/token`): a client span `alarmbox.token.request` with the HTTP client
 * attributes (method, server, the URL without a query, the status code `run` notes) and the grant type, and
 * its duration in the histogram by grant type and outcome.
 */
export function tracedTokenRequest<T>(
  url: URL,
  grantType: string,
  run: (span: SpanNote) => Promise<T>,
): Promise<T> {
  const attributes: Attributes = {
    'http.request.method': 'POST',
    'server.address': url.hostname,
    'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    'url.full': `${url.origin}${url.pathname}`,
    'alarmbox.grant_type': grantType,
  };
  return traced(
    'alarmbox.token.request',
    attributes,
    async (span) => {
      const started = performance.now();
      let outcome: Outcome = 'ok';
      try {
        return await run(span);
      } catch (error) {
        outcome = reasonOf(error);
        throw error;
      } finally {
        const otelApi = otel();
        if (otelApi !== undefined) {
          const seconds = (performance.now() - started) / 1000;
          safely(() =>
            meters(otelApi).tokenRequest.record(seconds, {
              'alarmbox.grant_type': grantType,
              'alarmbox.refresh.outcome': outcome,
            }),
          );
        }
      }
    },
    'client',
  );
}
