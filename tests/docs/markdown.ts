// What the docs check needs to know about Markdown: headings with their GitHub anchors, and relative links.
// Fenced code, inline code and HTML comments are not Markdown to GitHub, so neither headings nor links there count.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';

export interface Heading {
  /** As GitHub renders it: inline code, links and emphasis reduced to their text. */
  readonly text: string;
  /** The `#anchor` GitHub gives it, with `-1`, `-2`… for repeats. */
  readonly slug: string;
}

export interface Link {
  readonly target: string;
  readonly line: number;
}

/**
 * GitHub's anchor rule (github-slugger): lower-case, drop every character that is not a letter, mark, number,
 * connector punctuation, space or hyphen, then spaces become hyphens. Written here rather than added as a
 * dependency: it is one line, and the slugger's own table is this same Unicode-category rule.
 */
export function githubSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The Markdown text with fenced code blocks and HTML comments blanked out, line numbers kept. */
function proseLines(markdown: string): string[] {
  const withoutComments = markdown.replace(/<!--[\s\S]*?-->/g, (c) => c.replace(/[^\n]/g, ' '));
  const lines = withoutComments.split('\n');
  let fence: string | undefined;
  return lines.map((line) => {
    const opener = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined) {
      if (opener !== undefined) {
        fence = opener;
        return '';
      }
      return line;
    }
    if (opener !== undefined && opener[0] === fence[0] && opener.length >= fence.length) fence = undefined;
    return '';
  });
}

/** Heading text as rendered: `code` → code, [text](url) → text, **bold** / *em* → bold / em. */
function renderedText(raw: string): string {
  return raw
    .replace(/\s+#+\s*$/, '')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[^\w*])\*([^*]+)\*/g, '$1$2')
    .trim();
}

export function headings(markdown: string): Heading[] {
  const seen = new Map<string, number>();
  const found: Heading[] = [];
  for (const line of proseLines(markdown)) {
    const match = /^\s{0,3}#{1,6}\s+(.*)$/.exec(line);
    if (!match) continue;
    const text = renderedText(match[1]!);
    const base = githubSlug(text);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.push({ text, slug: count === 0 ? base : `${base}-${count}` });
  }
  return found;
}

/** Inline links and images `[text](target)` and reference definitions `[id]: target`, outside code. */
export function links(markdown: string): Link[] {
  const found: Link[] = [];
  proseLines(markdown).forEach((raw, index) => {
    const line = raw.replace(/`[^`]*`/g, (c) => ' '.repeat(c.length));
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      found.push({ target: m[1]!, line: index + 1 });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(line);
    if (definition) found.push({ target: definition[1]!, line: index + 1 });
  });
  return found;
}

/**
 * Why a link from `fromFile` does not resolve, or undefined when it does. External links (a scheme, `//host`)
 * are not checked; everything else must stay inside `root`, name an existing file, and its `#anchor` must be
 * a heading of the Markdown file it points to.
 */
export function brokenLink(fromFile: string, target: string, root: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return undefined;
  const hashAt = target.indexOf('#');
  const pathPart = hashAt === -1 ? target : target.slice(0, hashAt);
  const anchor = hashAt === -1 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
  const file = pathPart === '' ? fromFile : resolve(dirname(fromFile), decodeURIComponent(pathPart));
  const inside = relative(root, file);
  if (inside === '..' || inside.startsWith(`..${sep}`) || resolve(root, inside) !== file) {
    return `リポジトリの外を指しています: ${target}`;
  }
  if (!existsSync(file)) return `ファイルがありません: ${target}`;
  if (anchor === undefined || anchor === '') return undefined;
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return `Markdown 以外への #アンカー: ${target}`;
  const slugs = headings(readFileSync(file, 'utf8')).map((h) => h.slug);
  return slugs.includes(anchor) ? undefined : `見出しがありません: ${target}`;
}

export interface Pointer {
  /** `README` or `docs/xxx.md`, as written. */
  readonly file: string;
  /** The heading named between 「」. */
  readonly heading: string;
}

/** `README「見出し」`, `README の「見出し」`, `docs/operations.md「見出し」` in a source text. */
export function pointers(source: string): Pointer[] {
  return [...source.matchAll(/(README(?:\.md)?|docs\/[\w.-]+\.md)\s*(?:の\s*)?「([^」\n]+)」/g)].map((m) => ({
    file: m[1]!,
    heading: m[2]!,
  }));
}
