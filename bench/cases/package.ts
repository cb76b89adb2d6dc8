// The package as an app installs it (`npm pack`, then `npm install <tarball>` into an empty project):
// - install-footprint: du of the project's node_modules, against the budget of 12 MB (limit 1.0 = at
//   most the budget). The default install has no native addon (SQLite is Node's own node:sqlite).
// - library-cold-start: a fresh process that imports alarmbox-auth and gets its first `getValidAccessToken()`
//   from a SQLite database with a registered pair, against `node -e 0`, alternately; limit 2.0.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createToolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type BenchCase, type BenchResult, median } from '../case.ts';

const BUDGET_MB = 12;
const WARM_UP = 3;
const ROUNDS = 21;
const root = fileURLToPath(new URL('../../', import.meta.url));

function timed(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    execFile(process.execPath, [...args], { cwd, env }, (error, _stdout, stderr) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (error !== null) reject(new Error(`${args.join(' ')} failed: ${stderr}`));
      else resolve(ms);
    });
  });
}

const packageCase: BenchCase = {
  name: 'package',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'alarmbox-package-bench-'));
    try {
      const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 64 * 1024 * 1024,
      });
      const [{ filename }] = JSON.parse(packed.slice(packed.indexOf('['))) as [{ filename: string }];
      const app = join(dir, 'app');
      execFileSync('mkdir', [app]);
      writeFileSync(join(app, 'package.json'), '{"name":"app","private":true,"type":"module"}\n');
      execFileSync(
        'npm',
        ['install', join(dir, filename), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
        { cwd: app, stdio: 'inherit' },
      );
      // du's own count (disk blocks, as `du -s` reports), in MiB.
      const kib = Number(
        execFileSync('du', ['-sk', join(app, 'node_modules')], { encoding: 'utf8' }).split('\t')[0],
      );
      const footprintMb = kib / 1024;
      const apparent = Number(
        execFileSync('du', ['-sk', '--apparent-size', join(app, 'node_modules')], { encoding: 'utf8' }).split(
          '\t',
        )[0],
      );
      const installed = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, unknown>;
      };
      const footprint: BenchResult = {
        name: 'install-footprint',
        value: footprintMb,
        unit: 'MiB',
        baseline: BUDGET_MB,
        ratio: footprintMb / BUDGET_MB,
        limit: 1.0,
        note: `${Object.keys(installed.packages).length - 1} packages, ${(apparent / 1024).toFixed(1)} MiB of file contents`,
      };

      const databaseUrl = `sqlite:${join(dir, 'alarmbox.db')}`;
      const options = {
        env: 'local' as const,
        databaseUrl,
        encryptionKeys: generateKeySpec('k1'),
        clientId: 'x',
        clientSecret: 'y',
      };
      const alarmbox = createToolkit(options);
      await migrateToLatest(alarmbox.database);
      await alarmbox.tokens.saveInitialToken({
        accessToken: 'CU8wbymHIiKUYy6tsY8dbCbzsZNdEucx70d2ZpBLz3Q',
        refreshToken: 'rT8wbymHIiKUYy6tsY8dbCbzsZNdEucx70d2ZpBLz3Q',
        expiresIn: 86_400,
      });
      await alarmbox.close();
      writeFileSync(
        join(app, 'first-token.js'),
        `import { createAlarmbox } from 'alarmbox-auth';
const alarmbox = createAlarmbox(JSON.parse(process.env.BENCH_OPTIONS));
const token = await alarmbox.tokens.getValidAccessToken();
if (token.length === 0) process.exit(1);
await alarmbox.close();
`,
      );
      const env = { PATH: process.env.PATH ?? '', HOME: dir, BENCH_OPTIONS: JSON.stringify(options) };
      const subject = () => timed(['first-token.js'], app, env);
      const floor = () => timed(['-e', '0'], app, env);
      for (let i = 0; i < WARM_UP; i++) {
        await floor();
        await subject();
      }
      const floors: number[] = [];
      const subjects: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        floors.push(await floor());
        subjects.push(await subject());
      }
      const value = median(subjects);
      const baseline = median(floors);
      const coldStart: BenchResult = {
        name: 'library-cold-start',
        value,
        unit: 'ms',
        baseline,
        ratio: value / baseline,
        limit: 2.0,
        note: 'import alarmbox-auth + first getValidAccessToken() on SQLite, vs node -e 0',
      };
      return [footprint, coldStart];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default packageCase;
