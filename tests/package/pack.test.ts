// The package as a user gets it: `npm pack` (which builds through `prepare`), the tarball installed into a fresh
// project on every supported Node (engines' minimum and the Node running the tests), a strict TypeScript
// consumer typechecked and run against the emulator from `alarmbox-auth/emulator`, and the installed `alarmbox`.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeySpec } from '../../src/crypto/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { obtainCode } from '../support/authorize.ts';
import { CliProcess } from '../support/cli-process.ts';
import { ensureNode } from './node-install.ts';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  scripts?: Record<string, string>;
};
const minimum = /^>=(\d+\.\d+)$/.exec(manifest.engines.node)?.[1];
/** The Node running the tests (24) and the oldest one that `engines` admits. */
const VERSIONS = [process.versions.node, `${minimum}.0`];
const TSC = join(root, 'node_modules/typescript/bin/tsc');
/** The consumer's @types/node: the very version the repository installed, so npm's cache has it. */
const typesNodeVersion = (
  JSON.parse(readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }
).version;

/**
 * What npm needs to reach the registry from this machine, whichever Node runs it. The other Node's npm reads
 * its own global npmrc, not the system one, so a `cafile` set there (a TLS-inspecting proxy's CA) is passed on
 * explicitly, with the usual CA and proxy variables.
 */
async function registryEnv(): Promise<Record<string, string>> {
  const passed: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    // Not npm_config_*: under `npm test` they describe this repository (its prefix), not the app.
    if (value !== undefined && /^(NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR)|(https?|no)_proxy)$/i.test(name))
      passed[name] = value;
  }
  const { stdout } = await exec('npm', ['config', 'get', 'cafile']);
  const cafile = stdout.trim();
  if (cafile !== '' && cafile !== 'null' && cafile !== 'undefined') passed.npm_config_cafile = cafile;
  return passed;
}

let work: string;
let registry: Record<string, string>;
let tarball: string;
let packedFiles: string[];
/** The consumer compiled once: its types do not depend on the Node that runs it (the check takes ~15 s). */
let consumerJs: string | undefined;

beforeAll(async () => {
  if (minimum === undefined)
    throw new Error(`engines.node must read ">=MAJOR.MINOR", not ${manifest.engines.node}`);
  work = mkdtempSync(join(tmpdir(), 'alarmbox-pack-'));
  registry = await registryEnv();
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as {
    filename: string;
    files: { path: string }[];
  }[];
  if (packed === undefined) throw new Error('npm pack reported nothing');
  tarball = join(work, packed.filename);
  packedFiles = packed.files.map((file) => file.path);
}, 240_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships the compiled build, the bin and the manifest only', () => {
    const stray = packedFiles.filter(
      (path) =>
        !/^(dist\/.+\.(js|d\.ts)|bin\/(alarmbox|run)\.js|docs\/[a-z-]+\.md|package\.json|README\.md|LICENSE)$/.test(
          path,
        ),
    );
    expect(stray).toEqual([]);
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'dist/lib/index.js',
        'dist/lib/emulator.js',
        'dist/index.d.ts',
        'dist/emulator/index.d.ts',
        'dist/cli-bundle/main.js',
      ]),
    );
    // The applications reach users only through the CLI bundle; their module-by-module build stays home.
    expect(packedFiles.filter((path) => /^dist\/(cli|console|jobs|doctor|sandbox)\//.test(path))).toEqual([]);
  });

  it('publishes a manifest with no scripts: nothing runs or warns at install, nothing names unshipped files', async () => {
    const { stdout } = await exec('tar', ['-xOzf', tarball, 'package/package.json']);
    const published = JSON.parse(stdout) as { scripts?: unknown; dependencies?: Record<string, string> };
    expect(published.scripts).toBeUndefined();
    // The embedded database is Node's own node:sqlite: no native addon comes with the default install.
    expect(Object.keys(published.dependencies ?? {})).not.toContain('better-sqlite3');
    // The repository's manifest is back after `npm pack` (postpack), prepare included for git-URL installs.
    expect(manifest.scripts?.prepare).toBe('node scripts/build.js --if-possible');
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))).toEqual(manifest);
    // npm 11 warns about any install-time script of a dependency (prepare too), at its default log level.
    const empty = join(work, 'no-scripts');
    mkdirSync(empty);
    writeFileSync(join(empty, 'package.json'), '{"name":"empty","private":true}\n');
    const installed = await exec('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: empty,
      env: { ...process.env, ...registry },
    });
    expect(installed.stdout + installed.stderr).not.toMatch(/allowScripts|install scripts/i);
  }, 120_000);

  it('passes publint and arethetypeswrong (ESM only)', async () => {
    const bin = join(root, 'node_modules/.bin');
    const publint = await exec(join(bin, 'publint'), [tarball, '--strict']);
    expect(publint.stdout).toContain('All good');
    await exec(join(bin, 'attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii']);
  }, 60_000);
});

describe('the public API', () => {
  it('matches the reviewed report etc/alarmbox-auth.api.md (npm run api:report after a deliberate change)', async () => {
    // `npm pack` above has just built dist/, whose declarations API Extractor reads.
    await exec(join(root, 'node_modules/.bin/api-extractor'), ['run'], { cwd: root }).catch(
      (error: { stdout?: string }) => {
        throw new Error(
          `the public API differs from etc/alarmbox-auth.api.md:\n${error.stdout ?? String(error)}`,
        );
      },
    );
  }, 60_000);

  it('exports exactly the reviewed names at run time', async () => {
    const report = readFileSync(join(root, 'etc/alarmbox-auth.api.md'), 'utf8');
    const runtime = Object.keys(await import(pathToFileURL(join(root, 'dist/lib/index.js')).href)).sort();
    // Every run-time export is a class, function or constant of the report, and nothing internal slipped in.
    for (const name of runtime)
      expect(report).toMatch(new RegExp(`export (declare )?(class|function|const) ${name}\\b`));
    expect(runtime).toContain('createAlarmbox');
    for (const internal of [
      'AlarmboxTokenStore',
      'LockManager',
      'RefreshHistory',
      'migrateToLatest',
      'runDoctor',
      'runJob',
    ])
      expect(runtime).not.toContain(internal);
  });
});

/**
 * docs/design.md「起動の速さ」: an app's first `getValidAccessToken()` on SQLite loads the library's entry and
 * nothing else of it (Kysely's chunk comes with the first write); a migration afterwards does load another chunk,
 * which shows the hook sees them. Node 22.15+ (module.registerHooks); older Nodes only run the rest.
 */
async function expectFirstReadWithoutKysely(app: string, env: Record<string, string>): Promise<void> {
  const script = join(app, 'first-read.mjs');
  writeFileSync(
    script,
    `import module from 'node:module';
if (typeof module.registerHooks !== 'function') { console.log('null'); process.exit(0); }
const loaded = [];
module.registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
const ours = () => loaded.filter((url) => url.includes('/alarmbox-auth/')).map((url) => url.slice(url.lastIndexOf('/') + 1));
const { createAlarmbox } = await import('alarmbox-auth');
const alarmbox = createAlarmbox();
const token = await alarmbox.tokens.getValidAccessToken();
const firstRead = ours();
await alarmbox.migrate();
const afterMigrate = ours();
await alarmbox.close();
console.log(JSON.stringify({ token: token.length > 0, firstRead, afterMigrate }));
`,
  );
  const { stdout } = await exec('node', [script], { cwd: app, env });
  const seen = JSON.parse(stdout) as { token: boolean; firstRead: string[]; afterMigrate: string[] } | null;
  if (seen === null) return;
  expect(seen.token).toBe(true);
  expect(seen.firstRead.sort(), 'modules of the package loaded by the first read').toEqual([
    'index.js',
    expect.stringMatching(/^rolldown-runtime-.*\.js$/),
  ]);
  expect(seen.afterMigrate.length, 'a migration loads Kysely').toBeGreaterThan(seen.firstRead.length);
}

describe.each(VERSIONS)('installed on Node %s', (version) => {
  let app: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    const nodeBin = version === process.versions.node ? dirname(process.execPath) : await ensureNode(version);
    app = join(work, `app-${version}`);
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{"name":"app","private":true,"type":"module"}\n');
    env = {
      ...registry,
      PATH: `${nodeBin}${delimiter}${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? app,
      TZ: 'Asia/Tokyo',
    };
    // npm runs on this Node (its shebang finds the first node on PATH), so engines and install scripts see it.
    // Everything but the tarball comes from npm's cache when it can.
    await exec(
      'npm',
      [
        'install',
        tarball,
        `@types/node@${typesNodeVersion}`,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
      ],
      { cwd: app, env },
    );
    const { stdout } = await exec('node', ['--version'], { env });
    expect(stdout.trim()).toBe(`v${version}`);
  }, 240_000);

  it('typechecks a strict nodenext consumer (skipLibCheck false) that saves, reads and force-refreshes a token', async () => {
    if (consumerJs === undefined) {
      cpSync(fileURLToPath(new URL('./consumer/', import.meta.url)), app, { recursive: true });
      await exec(process.execPath, [TSC, '-p', join(app, 'tsconfig.json')]).catch(
        (error: { stdout?: string }) => {
          throw new Error(`the consumer does not typecheck:\n${error.stdout ?? String(error)}`);
        },
      );
      consumerJs = join(app, 'out/consumer.js');
    }
    // In the app's own directory, so that `alarmbox-auth` resolves to this app's installation.
    cpSync(consumerJs, join(app, 'consumer.js'));
    const { stdout } = await exec('node', [join(app, 'consumer.js')], { cwd: app, env });
    expect(JSON.parse(stdout)).toEqual({ saved: true, read: true, refreshed: true, node: version });
  }, 60_000);

  it('runs the installed alarmbox bin: --version, migrate, save-token, status, demo', async () => {
    const alarmbox = join(app, 'node_modules/.bin/alarmbox');
    expect((await exec(alarmbox, ['--version'], { env })).stdout.trim()).toBe(manifest.version);

    const installed = pathToFileURL(join(app, 'node_modules/alarmbox-auth/dist/lib/emulator.js')).href;
    const { startEmulator } = (await import(installed)) as {
      startEmulator(options: object): Promise<RunningEmulator>;
    };
    const emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    try {
      const cliEnv = {
        ...env,
        DATABASE_URL: `sqlite:${join(app, 'cli.db')}`,
        ALARMBOX_ENV: 'dev',
        ALARMBOX_ENCRYPTION_KEYS: generateKeySpec('k1'),
        ALARMBOX_BASE_URL: emulator.url,
        ALARMBOX_CLIENT_ID: emulator.options.clientId,
        ALARMBOX_CLIENT_SECRET: emulator.options.clientSecret,
      };
      await exec(alarmbox, ['migrate'], { env: cliEnv, cwd: app });
      const code = await obtainCode(emulator);
      const saved = await exec(alarmbox, ['save-token', `--code=${code}`], { env: cliEnv, cwd: app });
      expect(saved.stdout).toContain('トークンを保存しました');
      const status = await exec(alarmbox, ['status', '--json'], { env: cliEnv, cwd: app });
      expect(JSON.parse(status.stdout)).toMatchObject({ registered: true });
      await expectFirstReadWithoutKysely(app, cliEnv);
    } finally {
      await emulator.close();
    }
    const demo = await exec(alarmbox, ['demo'], { env, cwd: app });
    expect(demo.stdout).toContain('すべての確認に成功しました');
    // Node 22's "SQLite is an experimental feature" warning is held back (src/db/dialects/node-sqlite.ts).
    expect(demo.stderr).not.toContain('ExperimentalWarning');
  }, 90_000);

  it('runs the installed console with its embedded emulator (every lazily loaded chunk resolves)', async () => {
    const child = new CliProcess(['console', '--emulator', '--port', '0'], env, {
      command: join(app, 'node_modules/.bin/alarmbox'),
      cwd: app,
    });
    try {
      await expect
        .poll(() => (child.child.exitCode === null ? child.stdout : `exited: ${child.stderr}`), {
          timeout: 30_000,
        })
        .toContain('Ctrl+C で停止します');
      const url = /AlarmBox コンソールを起動しました: (\S+)/.exec(child.stdout)?.[1] ?? '';
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('AlarmBox コンソール');
      child.signal('SIGTERM');
      expect((await child.exited()).code).toBe(0);
    } finally {
      child.kill();
    }
  }, 60_000);
});
