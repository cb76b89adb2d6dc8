// The docs are read from the top and followed link by link, and the CLI sends people to their headings:
// every relative link must land on a file and heading that exist, nothing may point outside the repository,
// and every `README「…」` / `docs/xxx.md「…」` the sources print must name a heading of that file.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokenLink, githubSlug, headings, links, pointers } from './markdown.ts';

const root = join(import.meta.dirname, '..', '..');
const docsDir = join(root, 'docs');
const markdownFiles = [
  join(root, 'README.md'),
  join(root, 'DEVELOPERS.md'),
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join(docsDir, f)),
];

/** Files of the design notes that live outside this repository: a reader of the repository cannot open them. */
const OUTSIDE_REFERENCES = /\bDESIGN\.md\b|alarmbox-provider\.md|auth-guide\.ja\.md|\.\.\/shared\b/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) ? [path] : [];
  });
}

describe('README.md, DEVELOPERS.md and docs/*.md', () => {
  it('has the documents the README lists', () => {
    const names = markdownFiles.map((f) => relative(root, f));
    for (const doc of [
      'library',
      'console',
      'operations',
      'emulator',
      'guarantees',
      'troubleshooting',
      'design',
    ]) {
      expect(names).toContain(join('docs', `${doc}.md`));
    }
  });

  it('the README links every file of docs/, so each can be found from the top', () => {
    const targets = links(readFileSync(join(root, 'README.md'), 'utf8')).map((l) => l.target.split('#')[0]);
    const unlinked = markdownFiles
      .map((f) => relative(root, f))
      .filter((name) => name.startsWith(`docs${sep}`) && !targets.includes(name.split(sep).join('/')));
    expect(unlinked).toEqual([]);
  });

  it('README.md stays short enough to read from the top (at most 300 lines)', () => {
    const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThanOrEqual(300);
  });

  it.each(markdownFiles.map((f) => [relative(root, f), f]))(
    'every relative link of %s resolves',
    (_name, file) => {
      const broken = links(readFileSync(file, 'utf8')).flatMap((link) => {
        const why = brokenLink(file, link.target, root);
        return why === undefined ? [] : [`${relative(root, file)}:${link.line}: ${why}`];
      });
      expect(broken).toEqual([]);
    },
  );

  it.each(markdownFiles.map((f) => [relative(root, f), f]))(
    '%s refers to no file outside the repository',
    (_name, file) => {
      const text = readFileSync(file, 'utf8');
      const found = text
        .split('\n')
        .flatMap((line, i) =>
          [...line.matchAll(OUTSIDE_REFERENCES)].map((m) => `${relative(root, file)}:${i + 1}: ${m[0]}`),
        );
      expect(found).toEqual([]);
    },
  );
});

describe('pointers the sources print (README「…」, docs/xxx.md「…」)', () => {
  const found = sourceFiles(join(root, 'src')).flatMap((file) =>
    pointers(readFileSync(file, 'utf8')).map((p) => ({ ...p, from: relative(root, file) })),
  );

  it('finds the pointers (so a change of their form cannot silently empty this check)', () => {
    expect(found.length).toBeGreaterThanOrEqual(3);
  });

  it('each names an existing heading of an existing file', () => {
    const wrong = found.flatMap((p) => {
      const target = join(root, p.file === 'README' ? 'README.md' : p.file);
      let texts: string[];
      try {
        texts = headings(readFileSync(target, 'utf8')).map((h) => h.text);
      } catch {
        return [`${p.from}: ${p.file} がありません`];
      }
      return texts.includes(p.heading)
        ? []
        : [`${p.from}: ${p.file}「${p.heading}」という見出しがありません`];
    });
    expect(wrong).toEqual([]);
  });
});

describe('the checker itself', () => {
  it('makes GitHub anchors', () => {
    expect(githubSlug('エンドポイント表 (追加・修正できます)')).toBe('エンドポイント表-追加修正できます');
    expect(githubSlug('CLI: alarmbox credit-check')).toBe('cli-alarmbox-credit-check');
    expect(githubSlug('AlarmBox について分かっていること')).toBe('alarmbox-について分かっていること');
    expect(githubSlug('障害注入 (FaultPlan)')).toBe('障害注入-faultplan');
    expect(githubSlug('1. 認可 (OOB)')).toBe('1-認可-oob');
  });

  it('reads headings as rendered, numbers repeats, and ignores code blocks', () => {
    const md = ['# A `b` [c](d.md)', '## Same', '```sh', '# not a heading', '```', '## Same'].join('\n');
    expect(headings(md)).toEqual([
      { text: 'A b c', slug: 'a-b-c' },
      { text: 'Same', slug: 'same' },
      { text: 'Same', slug: 'same-1' },
    ]);
  });

  it('reports a missing file, a missing heading, and a path outside the repository', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alarmbox-docs-'));
    await mkdir(join(dir, 'docs'));
    writeFileSync(join(dir, 'README.md'), '# Top\n\n## 本物の AlarmBox で試す\n');
    const md = [
      '[ok](../README.md#本物の-alarmbox-で試す) [self](#guide) [ext](https://example.com/x)',
      '[missing file](nope.md) [missing heading](../README.md#nope)',
      '[outside](../../shared/DESIGN.md) `[in code](nowhere.md)`',
      '```',
      '[in a block](nowhere.md)',
      '```',
      '<!-- [in a comment](nowhere.md) -->',
      '## Guide',
    ].join('\n');
    const from = join(dir, 'docs', 'guide.md');
    writeFileSync(from, md);
    const problems = links(md)
      .map((l) => brokenLink(from, l.target, dir))
      .filter((p) => p !== undefined);
    expect(problems).toEqual([
      'ファイルがありません: nope.md',
      '見出しがありません: ../README.md#nope',
      'リポジトリの外を指しています: ../../shared/DESIGN.md',
    ]);
  });

  it('finds pointers in both spellings', () => {
    expect(
      pointers("'README の「本物の AlarmBox で試す」を参照' + `docs/operations.md「失敗の理由と対処」`"),
    ).toEqual([
      { file: 'README', heading: '本物の AlarmBox で試す' },
      { file: 'docs/operations.md', heading: '失敗の理由と対処' },
    ]);
  });
});
