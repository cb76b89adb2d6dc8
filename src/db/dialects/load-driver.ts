import { DatabaseDriverMissingError } from '../errors.ts';

/**
 * Imports a database driver when it is first needed, so that a process on SQLite never loads mysql2 or pg
 * (they are optional peer dependencies: an application installs only the one it uses).
 * @throws DatabaseDriverMissingError when the package cannot be found
 */
export async function loadDriver<T>(pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
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
