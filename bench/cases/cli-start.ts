// cli-start: how long the installed `alarmbox` command takes as a whole process, against a bare `node -e 0`
// measured alternately in the same run. The CLI runs as users get it: bin/ + the compiled dist/ + package.json in
// a directory of their own (node_modules linked), so bin/run.js picks dist/ as in an installed package.
// Issue limits: `alarmbox --version` ≤ 2.0×, `alarmbox status` on SQLite (a registered token) ≤ 3.0×.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { alarmboxFor, emulatorEnv, registerToken } from '../../tests/support/alarmbox.ts';
import { type BenchCase, type BenchResult, median } from '../case.ts';

const WARM_UP = 3;
const ROUNDS = 21;
const root = fileURLToPath(new URL('../../', import.meta.url));

function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    execFile(process.execPath, [...args], { env }, (error) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      // `status` exits 0 with a registered token; anything else means the case measures the wrong thing.
      if (error !== null) reject(error);
      else resolve(ms);
    });
  });
}

const cliStart: BenchCase = {
  name: 'cli-start',
  async run() {
    execFileSync(process.execPath, [join(root, 'scripts/build.js')], { stdio: 'inherit' });
    const dir = mkdtempSync(join(tmpdir(), 'alarmbox-cli-start-'));
    const emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    try {
      const app = join(dir, 'alarmbox-auth');
      cpSync(join(root, 'bin'), join(app, 'bin'), { recursive: true });
      cpSync(join(root, 'package.json'), join(app, 'package.json'));
      symlinkSync(join(root, 'dist'), join(app, 'dist'));
      symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'));
      const bin = join(app, 'bin/alarmbox.js');

      const databaseUrl = `sqlite:${join(dir, 'alarmbox.db')}`;
      const keys = generateKeySpec('k1');
      const alarmbox = alarmboxFor(emulator, databaseUrl, keys);
      await migrateToLatest(alarmbox.database);
      await registerToken(alarmbox, emulator);
      await alarmbox.close();
      // The compile cache lives where Node puts it by default (the OS temp dir), as for a user.
      const env = { PATH: process.env.PATH ?? '', HOME: dir, ...emulatorEnv(emulator, databaseUrl, keys) };

      const subjects: Record<string, readonly string[]> = {
        'cli-start --version': [bin, '--version'],
        'cli-start status (sqlite)': [bin, 'status'],
      };
      const limits: Record<string, number> = { 'cli-start --version': 2.0, 'cli-start status (sqlite)': 3.0 };
      const floor: number[] = [];
      const times: Record<string, number[]> = Object.fromEntries(
        Object.keys(subjects).map((name) => [name, []]),
      );
      for (let round = 0; round < WARM_UP + ROUNDS; round++) {
        for (const [name, args] of Object.entries(subjects)) {
          const bare = await run(['-e', '0'], env);
          const ms = await run(args, env);
          if (round < WARM_UP) continue;
          floor.push(bare);
          times[name]?.push(ms);
        }
      }
      const baseline = median(floor);
      return Object.entries(times).map(
        ([name, samples]): BenchResult => ({
          name,
          value: median(samples),
          unit: 'ms',
          baseline,
          ratio: median(samples) / baseline,
          limit: limits[name],
          note: `median of ${samples.length} processes after ${WARM_UP} warm-up rounds, alternating with node -e 0`,
        }),
      );
    } finally {
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default cliStart;
