import { DatabaseDriverMissingError } from '../errors.ts';

/** The optional peer dependencies this package can load, with what each module exports. */
interface Drivers {
  pg: typeof import('pg');
  mysql2: typeof import('mysql2');
}

/**
 * Imports a database driver when it is first needed, so that a process on SQLite never loads mysql2 or pg
 * (they are optional peer dependencies: an application installs only the one it uses).
 *
 * The specifier is a variable and the import carries the bundlers' ignore comments on purpose: webpack
 * (`webpackIgnore`, https://webpack.js.org/api/module-methods/#magic-comments) and Turbopack (`turbopackIgnore`,
 * or webpack's) leave such an `import()` to Node at run time, and esbuild leaves an `import()` of a non-literal
 * alone. With `import('pg')` written out, `next build` and `esbuild --bundle` resolve it at build time and fail
 * ("Module not found: Can't resolve 'pg'") in every app that did not install both drivers. At run time Node
 * resolves the package from the app's node_modules as usual; when it is absent, the Japanese
 * {@link DatabaseDriverMissingError} says which one to install.
 * @throws DatabaseDriverMissingError when the package cannot be found
 */
export async function loadDriver<P extends keyof Drivers>(pkg: P): Promise<Drivers[P]> {
  const specifier: string = pkg;
  try {
    return (await import(
      /* webpackIgnore: true */ /* turbopackIgnore: true */ /* @vite-ignore */ specifier
    )) as Drivers[P];
  } catch (error) {
    if (isMissingPackage(error, pkg)) throw new DatabaseDriverMissingError(pkg, { cause: error });
    throw error;
  }
}

// Node: ERR_MODULE_NOT_FOUND "Cannot find package 'pg' imported from …". Only the driver itself counts: a
// driver that is installed but misses one of its own dependencies is a different problem.
function isMissingPackage(error: unknown, pkg: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && error.message.includes(`'${pkg}'`)
  );
}
