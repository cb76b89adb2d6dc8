// The one way this repository bundles with rolldown: the shipped CLI (scripts/build.js) and the test run's CLI
// and child-process fixtures (tests/support/global-setup.ts). Plain JavaScript, so any supported Node runs it.
import { rolldown } from 'rolldown';

/**
 * Packages stay external (the drivers are optional peers; the rest are small or load lazily) except Kysely,
 * which loaded file by file is 257 ES modules, and rolldown's own runtime helpers: oxc rewrites some syntax
 * with them (a tagged template holding `</script>`), and they exist only inside rolldown, never in a user's
 * node_modules.
 */
function isExternal(id) {
  return !id.startsWith('.') && !id.startsWith('/') && !/^(kysely|@oxc-project\/runtime)(\/|$)/.test(id);
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
