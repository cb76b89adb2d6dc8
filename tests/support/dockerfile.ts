// A parser of the Dockerfile instructions this repository uses, so the image test (tests/ops/image.test.ts)
// follows the file rather than a copy of its steps. Anything it does not know (another instruction, a flag, the
// shell form of ENTRYPOINT, a quoted ENV value) is an error: the test must learn it before the file may use it.

export interface Stage {
  /** `FROM <base>`, e.g. `node:24-bookworm-slim`. */
  readonly base: string;
  /** `AS <name>`, or the stage's index as a string. */
  readonly name: string;
  readonly steps: readonly Step[];
}

export type Step =
  | { readonly kind: 'WORKDIR'; readonly path: string }
  | {
      readonly kind: 'COPY';
      readonly from?: string;
      readonly sources: readonly string[];
      readonly dest: string;
    }
  | { readonly kind: 'RUN'; readonly command: string }
  | { readonly kind: 'ENV'; readonly vars: Readonly<Record<string, string>> }
  | { readonly kind: 'USER'; readonly user: string }
  | { readonly kind: 'ENTRYPOINT' | 'CMD'; readonly args: readonly string[] };

class DockerfileError extends Error {
  constructor(line: number, message: string) {
    super(`Dockerfile line ${line}: ${message}`);
    this.name = 'DockerfileError';
  }
}

/** One instruction after comments are dropped and `\` continuations joined. */
interface Instruction {
  readonly line: number;
  readonly keyword: string;
  readonly rest: string;
}

function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { line: number; text: string } | undefined;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comment lines may sit between continued lines too (the Dockerfile reference, "Format").
    if (trimmed.startsWith('#')) return;
    if (trimmed === '' && pending === undefined) return;
    const continued = trimmed.endsWith('\\');
    const part = continued ? trimmed.slice(0, -1) : trimmed;
    pending =
      pending === undefined
        ? { line: index + 1, text: part }
        : { ...pending, text: `${pending.text} ${part}` };
    if (continued) return;
    const match = /^(\S+)\s*(.*)$/.exec(pending.text.trim());
    if (match !== null) out.push({ line: pending.line, keyword: match[1]!.toUpperCase(), rest: match[2]! });
    pending = undefined;
  });
  if (pending !== undefined) throw new DockerfileError(pending.line, 'the file ends inside a continued line');
  return out;
}

function execForm(instruction: Instruction): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(instruction.rest);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((arg) => typeof arg === 'string'))
    throw new DockerfileError(
      instruction.line,
      `${instruction.keyword} must use the exec form (a JSON array of strings): with the shell form, a signal goes to the shell and not to node`,
    );
  return parsed;
}

function envVars(instruction: Instruction): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of instruction.rest.split(/\s+/)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=([^"'$\\\s]*)$/.exec(pair);
    if (match === null)
      throw new DockerfileError(instruction.line, `ENV understands KEY=value pairs only, not "${pair}"`);
    vars[match[1]!] = match[2]!;
  }
  return vars;
}

function copy(instruction: Instruction): Step {
  if (instruction.rest.startsWith('['))
    throw new DockerfileError(instruction.line, 'COPY in JSON form is not understood');
  const words = instruction.rest.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    const value = /^--from=(\S+)$/.exec(flag)?.[1];
    if (value === undefined)
      throw new DockerfileError(instruction.line, `COPY flag ${flag} is not understood`);
    from = value;
  }
  const dest = words.pop();
  if (dest === undefined || words.length === 0)
    throw new DockerfileError(instruction.line, 'COPY needs a source and a destination');
  if (words.some((source) => /[*?[]/.test(source)))
    throw new DockerfileError(instruction.line, 'COPY with wildcards is not understood');
  return from === undefined
    ? { kind: 'COPY', sources: words, dest }
    : { kind: 'COPY', from, sources: words, dest };
}

/** The stages of `text`, in order; the last one is the image. */
export function parseDockerfile(text: string): Stage[] {
  const stages: { base: string; name: string; steps: Step[] }[] = [];
  for (const instruction of instructions(text)) {
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.rest);
      if (match === null)
        throw new DockerfileError(instruction.line, `FROM ${instruction.rest} is not understood`);
      stages.push({ base: match[1]!, name: match[2] ?? String(stages.length), steps: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined)
      throw new DockerfileError(instruction.line, `${instruction.keyword} before FROM`);
    switch (instruction.keyword) {
      case 'WORKDIR':
        if (!instruction.rest.startsWith('/'))
          throw new DockerfileError(instruction.line, 'WORKDIR must be an absolute path');
        stage.steps.push({ kind: 'WORKDIR', path: instruction.rest });
        break;
      case 'COPY':
        stage.steps.push(copy(instruction));
        break;
      case 'RUN':
        if (instruction.rest.startsWith('['))
          throw new DockerfileError(instruction.line, 'RUN in exec form is not understood');
        stage.steps.push({ kind: 'RUN', command: instruction.rest });
        break;
      case 'ENV':
        stage.steps.push({ kind: 'ENV', vars: envVars(instruction) });
        break;
      case 'USER':
        stage.steps.push({ kind: 'USER', user: instruction.rest });
        break;
      case 'ENTRYPOINT':
      case 'CMD':
        stage.steps.push({ kind: instruction.keyword, args: execForm(instruction) });
        break;
      default:
        throw new DockerfileError(
          instruction.line,
          `${instruction.keyword} is not understood by tests/support/dockerfile.ts; teach it there and in tests/support/image.ts`,
        );
    }
  }
  if (stages.length === 0) throw new DockerfileError(1, 'no FROM');
  return stages;
}

/** The patterns of a `.dockerignore` (comments and blank lines dropped, a leading `/` removed). */
export function parseDockerignore(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      if (line.startsWith('!')) throw new Error(`.dockerignore exceptions (${line}) are not understood`);
      return line.replace(/^\/+/, '').replace(/\/+$/, '');
    });
}

/**
 * Whether `path` (relative to the build context, `/`-separated) is left out of the context by `patterns`: the
 * Docker rules, each pattern anchored at the context's root (`*` within one segment, `**` across any), and a
 * folder that matches takes everything in it along.
 */
export function isIgnored(path: string, patterns: readonly string[]): boolean {
  const segments = path.split('/');
  return patterns.some((pattern) => {
    const regex = globRegex(pattern);
    return segments.some((_, i) => regex.test(segments.slice(0, i + 1).join('/')));
  });
}

function globRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
