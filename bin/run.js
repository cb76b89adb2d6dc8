// Starts the CLI once bin/alarmbox.js has checked the Node version.
// An installed package runs the compiled dist/. A checkout of the repository (src/ next to bin/) runs the
// TypeScript sources directly on Node 24, so tests and `npm run alarmbox` always exercise the current code and
// never a stale build; `npm pack` ships dist/ and not src/, so users never run TypeScript.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Keeps the compiled (and, in a checkout, type-stripped) modules between runs: schedulers start us often.
module.enableCompileCache?.();

const source = new URL('../src/apps/cli/main.ts', import.meta.url);
// Node 22 strips types only from 22.18 on; an older one (or --no-experimental-strip-types) uses the build.
const entry =
  existsSync(source) && process.features.typescript
    ? source.href
    : new URL('../dist/cli-bundle/main.js', import.meta.url).href;
const { main } = await import(entry);
process.exitCode = await main(process.argv);
