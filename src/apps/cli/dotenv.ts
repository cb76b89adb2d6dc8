import { existsSync } from 'node:fs';

/** The CLI reads `.env` from the working directory; variables already set win (Node's own rule). */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
