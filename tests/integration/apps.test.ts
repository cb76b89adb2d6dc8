// The packed tarball inside the apps people build, with no configuration: a default Next.js App Router app
// (`next build` with Turbopack, the default, and with webpack; with only alarmbox-auth installed and with pg
// too), served by `next start`, whose route reads the token and refreshes after `alarmbox expire-token`; and a
// handler bundled by esbuild (`--bundle --platform=node`, no externals) run with node in an empty folder.
// One fixture app is installed once from the npm registry and reused across the variants.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeySpec } from '../../src/crypto/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { obtainCode } from '../support/authorize.ts';

const exec = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

let work: string;
let app: string;
let tarball: string;
let emulator: RunningEmulator;
let env: Record<string, string>;

const npm = (args: string[], cwd: string) =>
  exec('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: process.env,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
  });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'alarmbox-apps-'));
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[];
  if (packed === undefined) throw new Error('npm pack reported nothing');
  tarball = join(work, packed.filename);

  app = join(work, 'next-app');
  mkdirSync(join(app, 'app/api/token'), { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'next-app', private: true, scripts: {} }, null, 2)}\n`,
  );
  cpSync(join(root, 'tests/integration/next-app'), app, { recursive: true });
  await npm(
    [
      'install',
      tarball,
      'next@16',
      'react@19',
      'react-dom@19',
      'typescript',
      '@types/react',
      '@types/node',
      'esbuild',
    ],
    app,
  );

  const installed = pathToFileURL(join(app, 'node_modules/alarmbox-auth/dist/lib/emulator.js')).href;
  const { startEmulator } = (await import(installed)) as {
    startEmulator(options: object): Promise<RunningEmulator>;
  };
  emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
  env = {
    ...(process.env as Record<string, string>),
    DATABASE_URL: `sqlite:${join(work, 'app.db')}`,
    ALARMBOX_ENV: 'dev',
    ALARMBOX_ENCRYPTION_KEYS: generateKeySpec('k1'),
    ALARMBOX_BASE_URL: emulator.url,
    ALARMBOX_CLIENT_ID: emulator.options.clientId,
    ALARMBOX_CLIENT_SECRET: emulator.options.clientSecret,
    NEXT_TELEMETRY_DISABLED: '1',
  };
  const alarmbox = join(app, 'node_modules/.bin/alarmbox');
  await exec(alarmbox, ['migrate'], { env, cwd: work });
  const code = await obtainCode(emulator);
  await exec(alarmbox, ['save-token', `--code=${code}`], { env, cwd: work });
}, 300_000);

afterAll(async () => {
  await emulator?.close();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

async function tokenFrom(url: string): Promise<{ masked: string; expiresAt: string }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.json()) as { masked: string; expiresAt: string };
}

async function startNext(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(join(app, 'node_modules/.bin/next'), ['start', '-p', '0'], {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`next start did not listen:\n${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /https?:\/\/localhost:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => reject(new Error(`next start exited ${code}:\n${output}`)));
  });
  return { child, url };
}

const variants = [
  { name: 'SQLite only, Turbopack', build: ['build'], pg: false },
  { name: 'SQLite only, webpack', build: ['build', '--webpack'], pg: false },
  { name: 'with pg, Turbopack', build: ['build'], pg: true },
  { name: 'with pg, webpack', build: ['build', '--webpack'], pg: true },
] as const;

describe.each(variants)('a default Next.js app ($name)', ({ build, pg }) => {
  it('builds with no configuration, serves the token and refreshes after expire-token', async () => {
    if (pg) await npm(['install', 'pg'], app);
    const built = await exec(join(app, 'node_modules/.bin/next'), [...build], {
      cwd: app,
      env: { ...env, NODE_ENV: 'production' },
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`next ${build.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    expect(built.stdout + built.stderr).not.toMatch(/Module not found|Can't resolve/);
    const { child, url } = await startNext();
    try {
      const first = await tokenFrom(`${url}/api/token`);
      expect(first.masked).toMatch(/^.{4}…\(\d+\)$/);
      await exec(join(app, 'node_modules/.bin/alarmbox'), ['expire-token'], { env, cwd: work });
      const second = await tokenFrom(`${url}/api/token`);
      expect(second.expiresAt).not.toBe(first.expiresAt);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('a handler bundled with esbuild', () => {
  it('--bundle --platform=node with no externals returns a valid token from an empty folder', async () => {
    const out = join(work, 'lambda');
    mkdirSync(out);
    await exec(
      join(app, 'node_modules/.bin/esbuild'),
      [
        join(app, 'handler.mjs'),
        '--bundle',
        '--platform=node',
        '--format=esm',
        `--outfile=${join(out, 'index.mjs')}`,
        // esbuild's ESM output has no `require` for the CommonJS packages it bundles.
        `--banner:js=import { createRequire as bannerRequire } from 'node:module'; const require = bannerRequire(import.meta.url);`,
      ],
      { cwd: app },
    );
    const { stdout } = await exec(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { handler } = await import('./index.mjs'); console.log(JSON.stringify(await handler()));`,
      ],
      { cwd: out, env },
    );
    const answer = JSON.parse(stdout) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(200);
    const body = JSON.parse(answer.body) as { masked: string };
    expect(body.masked).toMatch(/^.{4}…\(\d+\)$/);
    // Nothing native was bundled or left to load: the folder holds the bundle only.
    expect(readdirSync(out)).toEqual(['index.mjs']);
  });
});
