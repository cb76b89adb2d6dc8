// The one way this repository bundles with rolldown: the shipped CLI (scripts/build.js) and the test run's CLI
// and child-process fixtures (tests/support/global-setup.ts). Plain JavaScript, so any supported Node runs it.
import { rolldown } from 'rolldown';

/**
 * Inlined: Kysely (loaded file by file it is 257 ES modules), the packages only the CLI, the console, the emulator
 * and the proxy path use (commander, croner, yaml, hono, @hono/node-server, undici: installed whole they were most
 * of the package's footprint, bundled only what is imported is shipped, and none of their types is in the public
 * API), and rolldown's own runtime helpers (oxc rewrites some syntax with them, e.g. a tagged template holding
 * `</script>`, and they exist only inside rolldown). External: Node's modules and the optional drivers (an app
 * installs the one it uses).
 */
const INLINED = /^(kysely|commander|croner|yaml|hono|@hono\/node-server|undici|@oxc-project\/runtime)(\/|$)/;
function isExternal(id) {
  return !id.startsWith('.') && !id.startsWith('/') && !INLINED.test(id);
}

/**
 * Bundles `input` (one entry, written as `main.js`, or named entries, written as `<name>.js`) into `dir` as
 * ES modules, with a chunk per lazily imported module.
 */
export async function bundle({ input, dir, sourcemap = false }) {
  const build = await rolldown({ input, platform: 'node', external: isExternal, logLevel: 'warn' });
  try {
    await build.write({
      dir,
      format: 'esm',
      entryFileNames: typeof input === 'string' ? 'main.js' : '[name].js',
      chunkFileNames: '[name]-[hash].js',
      sourcemap,
    });
  } finally {
    await build.close();
  }
}
