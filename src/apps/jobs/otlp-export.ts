// The job's OpenTelemetry export (docs/operations.md「監視 (OpenTelemetry)」): when the standard OTEL_* variables
// name an OTLP endpoint, `refresh-token` and `worker` set up an SDK that sends the library's metrics and spans there
// over OTLP/HTTP, protobuf (the specification's default) or JSON, and flush it before the process ends. The SDK
// packages are not dependencies of the package (an app has its own SDK, of its own versions): the image installs
// them (scripts/image-manifest.js), elsewhere the job refuses, naming them, rather than drop the setting.
import { ConfigError } from '../../config/errors.ts';
import { waitAtMost } from '../../wait-at-most.ts';

type Api = typeof import('@opentelemetry/api');
type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');
type SdkTrace = typeof import('@opentelemetry/sdk-trace');
type ContextAsyncHooks = typeof import('@opentelemetry/context-async-hooks');
type Resources = typeof import('@opentelemetry/resources');
type MetricsExporter =
  | typeof import('@opentelemetry/exporter-metrics-otlp-proto')
  | typeof import('@opentelemetry/exporter-metrics-otlp-http');
type TraceExporter =
  | typeof import('@opentelemetry/exporter-trace-otlp-proto')
  | typeof import('@opentelemetry/exporter-trace-otlp-http');

type Signal = 'TRACES' | 'METRICS';

/** The OTLP protocols the job speaks (`OTEL_EXPORTER_OTLP_PROTOCOL`); `grpc` is not one of them. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** The specification's default when no protocol variable is set. */
const DEFAULT_PROTOCOL: OtlpProtocol = 'http/protobuf';

/** What every export needs, in the order the refusal names them. */
const SDK_PACKAGES = [
  '@opentelemetry/api',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/sdk-trace',
  '@opentelemetry/context-async-hooks',
  '@opentelemetry/resources',
] as const;

/** The exporter of each signal, by protocol. */
const EXPORTER_PACKAGES = {
  METRICS: {
    'http/protobuf': '@opentelemetry/exporter-metrics-otlp-proto',
    'http/json': '@opentelemetry/exporter-metrics-otlp-http',
  },
  TRACES: {
    'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
    'http/json': '@opentelemetry/exporter-trace-otlp-http',
  },
} as const satisfies Record<Signal, Record<OtlpProtocol, string>>;

/** Every package the export may load, whatever the protocol (what the image ships). */
export const OTLP_PACKAGES = [
  ...SDK_PACKAGES,
  ...Object.values(EXPORTER_PACKAGES).flatMap((byProtocol) => Object.values(byProtocol)),
] as const;

/** How long the final flush may take before the job ends anyway (the exporters' own timeout is 10 s). */
const FLUSH_BOUND_MS = 15_000;

/** Which signals the environment asks to export, each with its protocol (undefined: not exported). */
export interface OtlpSettings {
  readonly traces: OtlpProtocol | undefined;
  readonly metrics: OtlpProtocol | undefined;
  readonly metricIntervalMs: number;
}

/** A running export: {@link OtlpExport.shutdown} flushes what is recorded and stops. */
export interface OtlpExport {
  shutdown(): Promise<void>;
}

function nonBlank(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * The protocol of one signal: its own variable wins over the general one, `http/protobuf` when neither is set.
 * Both are checked, so a value the job cannot speak is refused even where the other one would win.
 */
function signalProtocol(env: NodeJS.ProcessEnv, signal: Signal): OtlpProtocol {
  let protocol: OtlpProtocol = DEFAULT_PROTOCOL;
  for (const variable of ['OTEL_EXPORTER_OTLP_PROTOCOL', `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`]) {
    const value = nonBlank(env[variable]);
    if (value === undefined) continue;
    if (value !== 'http/protobuf' && value !== 'http/json') {
      throw new ConfigError(
        variable,
        `${variable}=${value.slice(0, 32)} には対応していません。alarmbox のジョブが送れるのは OTLP/HTTP の http/protobuf (既定) と http/json だけです。どちらかを指定するか、未設定にしてください` +
          ' (grpc の 4317 番ではなく、OpenTelemetry Collector が OTLP/HTTP を受け付ける 4318 番ポートをエンドポイントにしてください)。',
      );
    }
    protocol = value;
  }
  return protocol;
}

/** Whether one signal is asked for (an endpoint, general or its own, and its exporter not `none`), and how. */
function signalSetting(env: NodeJS.ProcessEnv, signal: Signal): OtlpProtocol | undefined {
  const endpoint =
    nonBlank(env.OTEL_EXPORTER_OTLP_ENDPOINT) ?? nonBlank(env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]);
  if (endpoint === undefined) return undefined;
  const exporterVariable = `OTEL_${signal}_EXPORTER`;
  const exporter = nonBlank(env[exporterVariable])?.toLowerCase();
  if (exporter === 'none') return undefined;
  if (exporter !== undefined && exporter !== 'otlp') {
    throw new ConfigError(
      exporterVariable,
      `${exporterVariable}=${exporter.slice(0, 32)} には対応していません。alarmbox のジョブが送れるのは otlp だけです。otlp・none のどちらかを指定するか、未設定にしてください。`,
    );
  }
  return signalProtocol(env, signal);
}

/**
 * Reads the OTEL_* variables: undefined when nothing is to be exported (no endpoint, `OTEL_SDK_DISABLED=true`,
 * or both exporters `none`).
 * @throws ConfigError for a value the job cannot honour (another exporter or protocol, a bad interval)
 */
function otlpSettings(env: NodeJS.ProcessEnv = process.env): OtlpSettings | undefined {
  if (nonBlank(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return undefined;
  const traces = signalSetting(env, 'TRACES');
  const metrics = signalSetting(env, 'METRICS');
  if (traces === undefined && metrics === undefined) return undefined;
  const interval = nonBlank(env.OTEL_METRIC_EXPORT_INTERVAL);
  const metricIntervalMs = interval === undefined ? 60_000 : Number(interval);
  if (!Number.isSafeInteger(metricIntervalMs) || metricIntervalMs <= 0) {
    throw new ConfigError(
      'OTEL_METRIC_EXPORT_INTERVAL',
      'OTEL_METRIC_EXPORT_INTERVAL はミリ秒の正の整数で指定してください (例: 60000)。',
    );
  }
  return { traces, metrics, metricIntervalMs };
}

/** The packages an export of these settings loads: the SDK, and the exporter of each signal for its protocol. */
export function otlpPackages(settings: Pick<OtlpSettings, 'traces' | 'metrics'>): string[] {
  return [
    ...SDK_PACKAGES,
    ...(settings.metrics === undefined ? [] : [EXPORTER_PACKAGES.METRICS[settings.metrics]]),
    ...(settings.traces === undefined ? [] : [EXPORTER_PACKAGES.TRACES[settings.traces]]),
  ];
}

interface Sdk {
  readonly api: Api;
  readonly metrics: SdkMetrics;
  readonly trace: SdkTrace;
  readonly contextAsyncHooks: ContextAsyncHooks;
  readonly resources: Resources;
  /** Loaded only when metrics are exported (and traces for the next). */
  readonly metricsExporter: MetricsExporter | undefined;
  readonly traceExporter: TraceExporter | undefined;
}

/** Imports a package of the export by a variable specifier (bundlers leave it to Node); undefined if missing. */
async function load(pkg: string): Promise<unknown> {
  const specifier: string = pkg;
  try {
    return await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ /* @vite-ignore */ specifier);
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    const missing =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      error instanceof Error &&
      error.message.includes(`'${pkg}'`);
    if (missing) return undefined;
    throw error;
  }
}

/** @throws ConfigError naming every package these settings need that is not installed, with the npm command */
async function loadSdk(settings: OtlpSettings): Promise<Sdk> {
  const packages = otlpPackages(settings);
  const loaded = new Map(await Promise.all(packages.map(async (pkg) => [pkg, await load(pkg)] as const)));
  const missing = packages.filter((pkg) => loaded.get(pkg) === undefined);
  if (missing.length > 0) {
    throw new ConfigError(
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      `OTEL_EXPORTER_OTLP_ENDPOINT (または OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) が設定されていますが、OpenTelemetry の送信に必要なパッケージ ${missing.join('、')} がインストールされていません。` +
        `npm install ${missing.join(' ')} を実行してください (コンテナイメージには含まれています)。送信しない場合は OTEL_EXPORTER_OTLP_ENDPOINT を外してください。`,
    );
  }
  const exporter = (signal: Signal, protocol: OtlpProtocol | undefined) =>
    protocol === undefined ? undefined : loaded.get(EXPORTER_PACKAGES[signal][protocol]);
  return {
    api: loaded.get('@opentelemetry/api') as Api,
    metrics: loaded.get('@opentelemetry/sdk-metrics') as SdkMetrics,
    trace: loaded.get('@opentelemetry/sdk-trace') as SdkTrace,
    contextAsyncHooks: loaded.get('@opentelemetry/context-async-hooks') as ContextAsyncHooks,
    resources: loaded.get('@opentelemetry/resources') as Resources,
    metricsExporter: exporter('METRICS', settings.metrics) as MetricsExporter | undefined,
    traceExporter: exporter('TRACES', settings.traces) as TraceExporter | undefined,
  };
}

/** The SDK's own problems (an unreachable collector, a rejected export) on stderr: never silent, never fatal. */
function reportSdkProblems(api: Api): void {
  const write = (message: string, ...args: unknown[]) =>
    process.stderr.write(
      `警告: OpenTelemetry の送信で問題が起きました (ジョブの結果には影響しません): ${[message, ...args.map(String)].join(' ').slice(0, 500)}\n`,
    );
  const quiet = () => undefined;
  api.diag.setLogger(
    { error: write, warn: write, info: quiet, debug: quiet, verbose: quiet },
    api.DiagLogLevel.WARN,
  );
}

/**
 * Starts the export the environment asks for and registers it globally, before the toolkit is created; undefined
 * when nothing is asked. The exporters read the rest of the standard variables themselves (the endpoints,
 * `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`; `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`
 * the resource).
 * @throws ConfigError when a setting cannot be honoured or a package is missing (exit 2)
 */
export async function startOtlpExport(env: NodeJS.ProcessEnv = process.env): Promise<OtlpExport | undefined> {
  const settings = otlpSettings(env);
  if (settings === undefined) return undefined;
  const sdk = await loadSdk(settings);
  reportSdkProblems(sdk.api);
  const { resources } = sdk;
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': 'alarmbox-auth' }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const stops: (() => Promise<void>)[] = [];
  if (sdk.traceExporter !== undefined) {
    const provider = new sdk.trace.TracerProvider({
      resource,
      spanProcessors: [
        new sdk.trace.BatchSpanProcessor({ exporter: new sdk.traceExporter.OTLPTraceExporter() }),
      ],
    });
    sdk.api.context.setGlobalContextManager(
      new sdk.contextAsyncHooks.AsyncLocalStorageContextManager().enable(),
    );
    sdk.api.trace.setGlobalTracerProvider(provider);
    stops.push(() => provider.shutdown());
  }
  if (sdk.metricsExporter !== undefined) {
    const provider = new sdk.metrics.MeterProvider({
      resource,
      readers: [
        new sdk.metrics.PeriodicExportingMetricReader({
          exporter: new sdk.metricsExporter.OTLPMetricExporter(),
          exportIntervalMillis: settings.metricIntervalMs,
          exportTimeoutMillis: Math.min(settings.metricIntervalMs, 30_000),
        }),
      ],
    });
    sdk.api.metrics.setGlobalMeterProvider(provider);
    stops.push(() => provider.shutdown());
  }
  return { shutdown: () => flush(stops) };
}

/** Shuts the providers down (each flushes first), at most {@link FLUSH_BOUND_MS}. */
async function flush(stops: readonly (() => Promise<void>)[]): Promise<void> {
  const done = Promise.allSettled(stops.map((stop) => stop())).then((settled) => {
    for (const result of settled) {
      if (result.status === 'rejected') {
        const detail = result.reason instanceof Error ? result.reason.message : String(result.reason);
        process.stderr.write(
          `警告: OpenTelemetry の最後の送信に失敗しました (ジョブの結果には影響しません): ${detail.slice(0, 500)}\n`,
        );
      }
    }
  });
  if ((await waitAtMost(done, FLUSH_BOUND_MS)) === undefined) {
    process.stderr.write(
      `警告: OpenTelemetry の送信が ${FLUSH_BOUND_MS / 1000} 秒で終わらなかったため、残りを送らずに終了します (ジョブの結果には影響しません)。\n`,
    );
  }
}
