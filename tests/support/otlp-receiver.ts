// A stand-in OpenTelemetry Collector on 127.0.0.1: accepts OTLP/HTTP JSON on /v1/traces and /v1/metrics and keeps
// what arrived, for the tests of the job's export (and the rendered sample in docs/operations.md).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An OTLP attribute as JSON carries it. */
interface OtlpAttribute {
  readonly key: string;
  readonly value: {
    stringValue?: string;
    intValue?: string | number;
    doubleValue?: number;
    boolValue?: boolean;
  };
}

interface OtlpPoint {
  readonly attributes?: OtlpAttribute[];
  readonly asInt?: string | number;
  readonly asDouble?: number;
  readonly count?: string | number;
  readonly sum?: number;
  readonly bucketCounts?: (string | number)[];
  readonly explicitBounds?: number[];
}

/** One metric of an export request (the fields the tests read). */
export interface OtlpMetric {
  readonly name: string;
  readonly unit?: string;
  readonly sum?: { dataPoints: OtlpPoint[] };
  readonly gauge?: { dataPoints: OtlpPoint[] };
  readonly histogram?: { dataPoints: OtlpPoint[] };
}

/** One span of an export request. */
export interface OtlpSpan {
  readonly name: string;
  readonly kind?: number;
  readonly attributes?: OtlpAttribute[];
  readonly events?: unknown[];
}

export interface OtlpReceiver {
  readonly url: string;
  /** The raw bodies, by path (`/v1/traces`, `/v1/metrics`). */
  readonly bodies: { readonly path: string; readonly contentType: string; readonly text: string }[];
  metrics(): OtlpMetric[];
  spans(): OtlpSpan[];
  resourceAttributes(): Record<string, unknown>;
  close(): Promise<void>;
}

export function attributesOf(attributes: readonly OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries(
    (attributes ?? []).map(({ key, value }) => [
      key,
      value.stringValue ?? value.doubleValue ?? value.boolValue ?? Number(value.intValue),
    ]),
  );
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const bodies: { path: string; contentType: string; text: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        text: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const parsed = (path: string) =>
    bodies.filter((b) => b.path === path).map((b) => JSON.parse(b.text) as Record<string, unknown>);
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    metrics: () =>
      parsed('/v1/metrics').flatMap((body) =>
        (body.resourceMetrics as { scopeMetrics: { metrics: OtlpMetric[] }[] }[]).flatMap((rm) =>
          rm.scopeMetrics.flatMap((sm) => sm.metrics),
        ),
      ),
    spans: () =>
      parsed('/v1/traces').flatMap((body) =>
        (body.resourceSpans as { scopeSpans: { spans: OtlpSpan[] }[] }[]).flatMap((rs) =>
          rs.scopeSpans.flatMap((ss) => ss.spans),
        ),
      ),
    resourceAttributes: () => {
      const [first] = parsed('/v1/metrics');
      const resource = (
        first?.resourceMetrics as { resource?: { attributes?: OtlpAttribute[] } }[] | undefined
      )?.[0]?.resource;
      return attributesOf(resource?.attributes);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Prometheus's names for an OTLP metric (what an OTLP-to-Prometheus pipeline shows): dots to `_`, unit, total. */
function prometheusName(metric: OtlpMetric): string {
  const base = metric.name.replace(/[^a-zA-Z0-9_]/g, '_');
  const unit = metric.unit === 's' ? '_seconds' : '';
  return `${base}${unit}${metric.sum !== undefined ? '_total' : ''}`;
}

function labels(attributes: Record<string, unknown>, extra: Record<string, string> = {}): string {
  const all = {
    ...Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k.replace(/\./g, '_'), v])),
    ...extra,
  };
  const text = Object.entries(all)
    .map(([k, v]) => `${k}="${String(v)}"`)
    .join(',');
  return text === '' ? '' : `{${text}}`;
}

/**
 * The metrics as Prometheus's text exposition would show them (the last export of each series): the rendered
 * sample of docs/operations.md「監視 (OpenTelemetry)」.
 */
export function renderPrometheus(metrics: readonly OtlpMetric[]): string {
  const last = new Map<string, OtlpMetric>();
  for (const metric of metrics) last.set(metric.name, metric);
  const lines: string[] = [];
  for (const metric of last.values()) {
    const name = prometheusName(metric);
    const type = metric.sum ? 'counter' : metric.histogram ? 'histogram' : 'gauge';
    lines.push(`# TYPE ${name} ${type}`);
    for (const point of (metric.sum ?? metric.gauge)?.dataPoints ?? []) {
      const value = point.asDouble ?? Number(point.asInt);
      lines.push(`${name}${labels(attributesOf(point.attributes))} ${Number(value.toFixed(3))}`);
    }
    for (const point of metric.histogram?.dataPoints ?? []) {
      const attributes = attributesOf(point.attributes);
      let cumulative = 0;
      const bounds = point.explicitBounds ?? [];
      (point.bucketCounts ?? []).forEach((count, i) => {
        cumulative += Number(count);
        const le = i < bounds.length ? String(bounds[i]) : '+Inf';
        // Empty leading buckets say nothing in a sample: shown from the first value on.
        if (cumulative > 0 || le === '+Inf')
          lines.push(`${name}_bucket${labels(attributes, { le })} ${cumulative}`);
      });
      lines.push(`${name}_sum${labels(attributes)} ${Number((point.sum ?? 0).toFixed(4))}`);
      lines.push(`${name}_count${labels(attributes)} ${Number(point.count)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
