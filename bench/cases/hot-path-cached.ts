// hot-path-cached: the token an API call starts with, `api.tokens.getValidAccessToken()` through the
// in-process cache (issue 6), against the floor measured in the same run: a plain Map lookup of the same
// string. Both are awaited the same way, so the ratio shows what the cache adds over "~a Map lookup"
// (a clock read and a comparison), not the cost of `await` itself.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type BenchCase, median } from '../case.ts';

const CALLS = 200_000;
const ROUNDS = 7;
/** The cache may cost a few times a bare Map lookup; an accidental store read would be ~1000×. */
const LIMIT = 4;

/** Mean nanoseconds per call over `n` sequential awaited calls. */
async function perCall(n: number, fn: () => unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - start) * 1e6) / n;
}

const hotPathCached: BenchCase = {
  name: 'hot-path-cached',
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'alarmbox-bench-cached-'));
    const alarmbox = createToolkit({
      env: 'local',
      databaseUrl: `sqlite:${join(dir, 'bench.db')}`,
      encryptionKeys: generateKeySpec('bench'),
      clientId: 'x',
      clientSecret: 'y',
    });
    try {
      await migrateToLatest(alarmbox.database);
      await alarmbox.tokens.saveInitialToken({
        accessToken: 'CU8wbymHIiKUYy6tsY8dbCbzsZNdEucx70d2ZpBLz3Q',
        refreshToken: 'rT8wbymHIiKUYy6tsY8dbCbzsZNdEucx70d2ZpBLz3Q',
        expiresIn: 86_400,
      });
      const tokens = alarmbox.api.tokens;
      const map = new Map([['alarmbox', await tokens.getValidAccessToken()]]);
      const floor = () => map.get('alarmbox');
      const subject = () => tokens.getValidAccessToken();
      // Warm both up (JIT), then alternate so that machine noise hits both alike; medians of rounds.
      await perCall(CALLS, floor);
      await perCall(CALLS, subject);
      const floors: number[] = [];
      const subjects: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        floors.push(await perCall(CALLS, floor));
        subjects.push(await perCall(CALLS, subject));
      }
      const value = median(subjects);
      const baseline = median(floors);
      return {
        name: 'hot-path-cached',
        value,
        unit: 'ns/call',
        baseline,
        ratio: value / baseline,
        limit: LIMIT,
        note: 'floor: await Map#get of the same token',
      };
    } finally {
      await alarmbox.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default hotPathCached;
