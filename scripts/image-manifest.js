// The package.json the image installs its run-time dependencies from (Dockerfile, `deps` stage): the optional peer
// drivers (pg, mysql2) become dependencies. An app installs the driver it uses; the image is the `alarmbox` CLI's
// own app and must reach whichever database DATABASE_URL names (Cloud SQL for PostgreSQL or MySQL). In the
// repository they are devDependencies, flagged `dev` in the lockfile, so `npm ci --omit=dev` alone leaves them out
// and every command that opens the database fails to load its driver. Moving them keeps the lockfile's versions:
// `npm ci` recomputes the dev flags from the manifest, and still refuses a lockfile that does not satisfy it.
// Plain JavaScript, so the base image's Node runs it.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package.json', import.meta.url);
const manifest = JSON.parse(readFileSync(path, 'utf8'));
for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
  manifest.dependencies = { ...manifest.dependencies, [name]: manifest.devDependencies?.[name] ?? range };
  delete manifest.devDependencies?.[name];
}
writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
