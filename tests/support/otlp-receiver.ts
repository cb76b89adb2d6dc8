// A stand-in OpenTelemetry Collector on 127.0.0.1: accepts OTLP/HTTP on /v1/traces and /v1/metrics, protobuf
// (`application/x-protobuf`, decoded by tests/support/otlp-protobuf.ts) and JSON (`application/json`), and keeps
// what arrived, for the tests of the job's export (and the rendered sample in docs/operations.md).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeOtlpProtobuf } from './otlp-protobuf.ts';

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

/** One request as it arrived: `text` is its raw bytes read as UTF-8 (strings show in protobuf too). */
interface OtlpBody {
  readonly path: string;
  readonly contentType: string;
  readonly text: string;
  /** The export request, decoded from either encoding into OTLP/JSON's shape. */
  readonly request: Record<string, unknown>;
}

const PROTOBUF = 'application/x-protobuf';

/** @throws Error for a content type OTLP/HTTP does not define (the test then fails on the export) */
function decode(path: string, contentType: string, raw: Buffer): Record<string, unknown> {
  if (contentType.startsWith(PROTOBUF)) return decodeOtlpProtobuf(path, raw);
  if (contentType.startsWith('application/json'))
    return JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  throw new Error(`not an OTLP/HTTP content type: ${contentType}`);
}

export interface OtlpReceiver {
  readonly url: string;
  /** The bodies, by path (`/v1/traces`, `/v1/metrics`). */
  readonly bodies: readonly OtlpBody[];
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
  const bodies: OtlpBody[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '';
      const contentType = req.headers['content-type'] ?? '';
      const raw = Buffer.concat(chunks);
      let request: Record<string, unknown>;
      try {
        request = decode(path, contentType, raw);
      } catch (error) {
        // Refused as a collector would: the exporter reports it, and the test misses the body.
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
        return;
      }
      bodies.push({ path, contentType, text: raw.toString('utf8'), request });
      // The response in the request's encoding: an empty ExportServiceResponse (full success) either way.
      if (contentType.startsWith(PROTOBUF)) res.writeHead(200, { 'content-type': PROTOBUF }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const parsed = (path: string) => bodies.filter((b) => b.path === path).map((b) => b.request);
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
