// `@opentelemetry/api` is an optional peer dependency: an application that has registered an OpenTelemetry SDK has
// it, every other one runs without it and loads nothing of it (docs/design.md「OpenTelemetry」).

/** The OpenTelemetry API module, as this package uses it. */
export type OtelApi = typeof import('@opentelemetry/api');

const SPECIFIER = '@opentelemetry/api';

/**
 * Imports `@opentelemetry/api` from the application's node_modules, or resolves to undefined when it is not
 * installed. As for the database drivers (src/db/dialects/load-driver.ts), the specifier is a variable and the
 * import carries the bundlers' ignore comments: `next build` and `esbuild --bundle` leave it to Node at run time
 * instead of failing on a package the app did not install.
 */
export async function loadOtelApi(): Promise<OtelApi | undefined> {
  const specifier: string = SPECIFIER;
  try {
    return (await import(
      /* webpackIgnore: true */ /* turbopackIgnore: true */ /* @vite-ignore */ specifier
    )) as OtelApi;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

// Only the API itself missing counts: an installed API that fails to load is a different problem, said as it is.
function isMissing(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    error.message.includes(`'${SPECIFIER}'`)
  );
}
