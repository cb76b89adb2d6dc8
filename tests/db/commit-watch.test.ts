// The SQLite commit announcement (src/db/commit-watch.ts): a waiter wakes when another process announces a
// commit, and only then; elsewhere a watch is a plain delay.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { announceCommit, type CommitWatch, watchCommits } from '../../src/db/commit-watch.ts';
import type { DatabaseTarget } from '../../src/db/index.ts';
import { NodeScript } from '../helpers/node-scripts.ts';

const dir = mkdtempSync(join(tmpdir(), 'alarmbox-commit-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function sqliteTarget(): Extract<DatabaseTarget, { dialect: 'sqlite' }> {
  return { dialect: 'sqlite', file: join(dir, `db${++files}.sqlite`) };
}

/** Runs the announcer fixture in its own process, as a peer would commit. */
async function inAnotherProcess(file: string, action: 'announce' | 'write'): Promise<void> {
  const result = await new NodeScript('commit-announcer.ts', [file, action]).exited(20_000);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

async function timed(watch: CommitWatch, ms: number): Promise<number> {
  const start = performance.now();
  await watch.wait(ms);
  return performance.now() - start;
}

describe('on a SQLite file', () => {
  it('wakes a waiter as soon as another process announces a commit', async () => {
    const target = sqliteTarget();
    const watch = watchCommits(target);
    try {
      expect(watch.live).toBe(true);
      const start = performance.now();
      // 30 s: only the announcement can end this wait within the test's time.
      const woken = watch.wait(30_000).then(() => performance.now() - start);
      await inAnotherProcess(target.file, 'announce');
      expect(await woken).toBeLessThan(10_000);
    } finally {
      watch.close();
    }
  });

  it('keeps an announcement made while the waiter was busy for its next wait', async () => {
    const target = sqliteTarget();
    const watch = watchCommits(target);
    try {
      await inAnotherProcess(target.file, 'announce');
      // Delivered by the kernel while nobody waited: give the event loop a moment to take it in.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await timed(watch, 30_000)).toBeLessThan(50);
      // Used up: the next wait runs its course.
      expect(await timed(watch, 200)).toBeGreaterThanOrEqual(190);
    } finally {
      watch.close();
    }
  });

  it('is not woken by commits nobody announced (the database and its -wal file are not watched)', async () => {
    const target = sqliteTarget();
    const watch = watchCommits(target);
    try {
      const waited = timed(watch, 1_500);
      await inAnotherProcess(target.file, 'write');
      expect(await waited).toBeGreaterThanOrEqual(1_490);
    } finally {
      watch.close();
    }
  });

  it('creates the notify file beside the database, private like the database', () => {
    const target = sqliteTarget();
    watchCommits(target).close();
    expect(statSync(`${target.file}-notify`).mode & 0o777).toBe(0o600);
  });

  it('stops waking after close(), and a wait rejects when its signal aborts', async () => {
    const target = sqliteTarget();
    const stop = new AbortController();
    const watch = watchCommits(target, stop.signal);
    const waiting = watch.wait(30_000);
    stop.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    await expect(watch.wait(10)).rejects.toThrow('stopped');
    watch.close();
    watch.close();
  });

  it('an announcement nobody watches for is harmless (the file does not exist yet)', () => {
    const target = sqliteTarget();
    expect(() => announceCommit(target)).not.toThrow();
    expect(() => statSync(`${target.file}-notify`)).toThrow();
  });
});

describe('where nothing can be watched', () => {
  const targets: [string, DatabaseTarget][] = [
    ['SQLite in memory', { dialect: 'sqlite', file: ':memory:' }],
    [
      'PostgreSQL',
      {
        dialect: 'postgres',
        url: 'postgres://127.0.0.1:5432/test',
        host: '127.0.0.1',
        port: 5432,
        database: 'test',
      },
    ],
    [
      'a SQLite file in a directory that does not exist',
      { dialect: 'sqlite', file: join(dir, 'missing', 'db.sqlite') },
    ],
  ];
  it.each(targets)('%s: a watch is a plain delay, and announcing does nothing', async (_name, target) => {
    const watch = watchCommits(target);
    try {
      expect(watch.live).toBe(false);
      announceCommit(target);
      expect(await timed(watch, 200)).toBeGreaterThanOrEqual(190);
    } finally {
      watch.close();
    }
  });
});
