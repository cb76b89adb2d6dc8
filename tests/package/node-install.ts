// Installs a given Node version once into ~/.cache/node<version>, the way scripts/use-node24.sh installs 24:
// the npm package `node@<version>` fetches the official binary for this platform. The machine needs nothing
// preinstalled; later runs reuse the cache.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

function platformDir(): string {
  const arch = process.arch === 'x64' ? 'x64' : process.arch;
  return `node-${process.platform}-${arch}`;
}

/** The bin directory (node, npm, npx) of Node `version`, installed on first use. */
export async function ensureNode(version: string): Promise<string> {
  const dir = join(homedir(), '.cache', `node${version}`);
  const bin = join(dir, 'node_modules', 'node', 'node_modules', platformDir(), 'bin');
  if (existsSync(join(bin, 'node'))) return bin;
  const tmp = `${dir}.tmp.${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // The package's preinstall script fetches the binary; allowScripts lets this npm run it.
  writeFileSync(join(tmp, 'package.json'), '{"private":true,"allowScripts":{"node":true}}\n');
  await run(
    'npm',
    [
      'install',
      '--prefix',
      tmp,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `node@${version}`,
    ],
    { timeout: 300_000 },
  );
  try {
    renameSync(tmp, dir);
  } catch {
    // A parallel run installed it first.
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!existsSync(join(bin, 'node'))) throw new Error(`node@${version} did not install a binary in ${bin}`);
  return bin;
}
