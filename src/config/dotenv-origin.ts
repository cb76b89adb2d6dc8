// The CLI reads `.env` (src/apps/cli/dotenv.ts) and the library does not: apps and frameworks load it themselves
// (Next.js, NestJS's ConfigModule, `node --env-file`). The CLI notes here which variables came from the file, so
// messages can say where the database setting came from.
const fromDotEnv = new Set<string>();

/** Called by the CLI with the variables it set from `.env`. */
export function noteDotEnvVariables(names: Iterable<string>): void {
  for (const name of names) fromDotEnv.add(name);
}

/** Whether `name` was set from `.env` by the CLI in this process. */
export function cameFromDotEnv(name: string): boolean {
  return fromDotEnv.has(name);
}
