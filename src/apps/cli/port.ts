import { UsageError } from './command-error.ts';

/** `--port` of the servers the CLI starts (emulator, console): 0 to 65535, 0 for any free port. */
export function parsePort(raw: string, example: number): number {
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new UsageError(
      `--port には 0〜65535 の整数を指定してください (例: --port ${example})。指定値: ${raw.slice(0, 16)}`,
    );
  }
  return port;
}
