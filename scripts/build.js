// `npm run build`: compiles src/ to a fresh dist/ (tsconfig.build.json), then bundles the CLI.
// `prepare` runs it with --if-possible (npm runs prepare on `npm ci` / `npm install` in a clone and when it
// installs the package from a git URL): there it skips an install that has nothing to build, e.g. one without
// devDependencies. Plain JavaScript, so any supported Node runs it.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { restoreManifest } from './pack-manifest.js';

const root = new URL('../', import.meta.url);
// A pack that failed before `postpack` left the published manifest in place of the repository's.
restoreManifest();
const ifPossible = process.argv.includes('--if-possible');
if (ifPossible && !existsSync(new URL('src/index.ts', root))) process.exit(0);
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.error('build: typescript is not installed (devDependencies omitted); dist/ is not built.');
  process.exit(ifPossible ? 0 : 1);
}
rmSync(new URL('dist/', root), { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);

// The CLI starts as a process per command (schedulers run it often). Loaded file by file, Kysely alone is 257
// ES modules; one bundle with a chunk per command loads a few files instead, and starts about twice as fast.
const { bundle } = await import('./bundle.js');
await bundle({
  input: new URL('dist/apps/cli/main.js', root).pathname,
  dir: new URL('dist/cli-bundle/', root).pathname,
  sourcemap: false,
});
// The library entries too (package.json `exports`): a serverless function or a scaled-out app pays its cold start
// at every new instance, and `import 'alarmbox-auth'` file by file took ~300 ms here (Kysely's 257 modules). The
// .d.ts files stay per module beside them for the types; the per-module .js files are not shipped.
await bundle({
  input: {
    index: new URL('dist/index.js', root).pathname,
    emulator: new URL('dist/emulator/index.js', root).pathname,
  },
  dir: new URL('dist/lib/', root).pathname,
  sourcemap: false,
});
