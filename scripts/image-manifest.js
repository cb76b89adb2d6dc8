// The package.json the image installs its run-time dependencies from (Dockerfile, `deps` stage): the optional peers
// (the drivers pg, mysql2; @opentelemetry/api) and the job's OTLP export packages become dependencies. An app installs the driver it uses; the image is the `alarmbox` CLI's
// own app and must reach whichever database DATABASE_URL names (Cloud SQL for PostgreSQL or MySQL). In the
// repository they are devDependencies, flagged `dev` in the lockfile, so `npm ci --omit=dev` alone leaves them out
// and every command that opens the database fails to load its driver. Moving them keeps the lockfile's versions:
// `npm ci` recomputes the dev flags from the manifest, and still refuses a lockfile that does not satisfy it.
// Plain JavaScript, so the base image's Node runs it.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package.json', import.meta.url);
const manifest = JSON.parse(readFileSync(path, 'utf8'));
// The job's OpenTelemetry export (src/apps/jobs/otlp-export.ts) needs the SDK and the OTLP/HTTP exporters when
// OTEL_EXPORTER_OTLP_ENDPOINT is set; an app has its own SDK, so they are no peers of the package, but the image is
// the job's app: every @opentelemetry/ devDependency is shipped too, at the lockfile's versions, except those only
// the tests use.
const TEST_ONLY = new Set(['@opentelemetry/exporter-prometheus']);
const shipped = [
  ...Object.entries(manifest.peerDependencies ?? {}),
  ...Object.entries(manifest.devDependencies ?? {}).filter(
    ([name]) => name.startsWith('@opentelemetry/') && !TEST_ONLY.has(name),
  ),
];
for (const [name, range] of shipped) {
  manifest.dependencies = { ...manifest.dependencies, [name]: manifest.devDependencies?.[name] ?? range };
  delete manifest.devDependencies?.[name];
}
writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
