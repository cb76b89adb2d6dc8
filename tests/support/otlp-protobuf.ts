// Decodes OTLP/HTTP protobuf request bodies (`application/x-protobuf`) for the stand-in collector of
// tests/support/otlp-receiver.ts, with protobufjs and the OTLP definitions themselves: tests/support/otlp-proto/ holds
// the .proto files of opentelemetry-proto v1.11.0 (Apache-2.0, its LICENSE beside them), unchanged. The decoded
// request is given in the shape OTLP/JSON has (camelCase names, 64-bit integers as strings, enums as numbers), so
// the tests read both protocols alike; bytes (trace and span ids) come as base64 rather than JSON's hex.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_ROOT = fileURLToPath(new URL('./otlp-proto/', import.meta.url));

/** The request message of each OTLP/HTTP path. */
const REQUEST_TYPES: Readonly<Record<string, string>> = {
  '/v1/metrics': 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
  '/v1/traces': 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
};

let root: protobuf.Root | undefined;

function definitions(): protobuf.Root {
  if (root === undefined) {
    const loaded = new protobuf.Root();
    // The files import each other by their path from the root of opentelemetry-proto.
    loaded.resolvePath = (_origin, target) => join(PROTO_ROOT, target);
    root = loaded.loadSync([
      'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
      'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    ]);
  }
  return root;
}

/**
 * The export request a protobuf body of `path` carries, as OTLP/JSON would spell it.
 * @throws Error for a path that is not an OTLP/HTTP signal or a body that is not its request message
 */
export function decodeOtlpProtobuf(path: string, body: Uint8Array): Record<string, unknown> {
  const typeName = REQUEST_TYPES[path];
  if (typeName === undefined) throw new Error(`no OTLP request type for the path ${path}`);
  const type = definitions().lookupType(typeName);
  return type.toObject(type.decode(body), { longs: String, bytes: String, arrays: true });
}
