// Where the CLI writes. Results on stdout, progress and explanations on stderr only where stdout must stay
// machine-readable (`access-token --reveal`, `status --json`).

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** What `--json` prints: the whole result as one indented JSON document. */
export function sayJson(value: unknown): void {
  say(JSON.stringify(value, null, 2));
}

export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

export { formatRemaining, formatTime } from '../format-time.ts';
