// Bundles the CLI and the child-process fixtures (tests/fixtures) from the current sources once per test run,
// the way `npm run build` bundles the shipped CLI (rolldown, Kysely inlined, packages external, a chunk per
// lazily loaded module). The suite starts about 330 CLI processes and over a hundred fixture processes; loaded
// from src/ file by file each costs about twice the CPU of a bundled start, which on a two-core machine is most
// of a minute of the suite's five. bin/alarmbox.js and bin/run.js themselves are covered by the package tests (the
// installed bin), tests/cli/cli-edges.test.ts and tests/emulator/cli.test.ts.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { bundle } from '../../scripts/bundle.js';
import { isDeadProcess } from '../../src/lock/owner-id.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test run's CLI entry (a bundle of src/apps/cli/main.ts), run as `node <cliEntry> <args>`. */
    cliEntry: string;
    /** Where the bundled tests/fixtures scripts are: `<name>.js` for `tests/fixtures/<name>.ts`. */
    fixturesDir: string;
  }
}

const root = fileURLToPath(new URL('../../', import.meta.url));
// Inside the repository, outside node_modules: Node finds package.json (`"type": "module"`, and the package's
// own name for `--version`) only in the package scope, which a node_modules folder would end.
const cacheDir = join(root, '.cache');

export default async function setup(project: TestProject): Promise<() => void> {
  // One folder a run, so two runs in one checkout never replace each other's files; a run that was killed
  // leaves its folder, removed here by the next one.
  mkdirSync(cacheDir, { recursive: true });
  for (const name of readdirSync(cacheDir)) {
    const pid = /^test-cli-(\d+)$/.exec(name)?.[1];
    if (pid !== undefined && isDeadProcess(Number(pid)))
      rmSync(join(cacheDir, name), { recursive: true, force: true });
  }
  const dir = join(cacheDir, `test-cli-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  // One build, so the CLI and the fixtures share their chunks (Kysely, the token core) and are built once.
  const fixtures = join(root, 'tests/fixtures');
  const scripts = readdirSync(fixtures).filter((name) => name.endsWith('.ts'));
  await bundle({
    input: {
      main: join(root, 'src/apps/cli/main.ts'),
      ...Object.fromEntries(
        scripts.map((name) => [`fixtures/${basename(name, '.ts')}`, join(fixtures, name)]),
      ),
    },
    dir,
  });
  const fixturesDir = join(dir, 'fixtures');
  // What bin/run.js does once bin/alarmbox.js has checked the Node version.
  const entry = join(dir, 'cli.js');
  writeFileSync(
    entry,
    [
      "import module from 'node:module';",
      'module.enableCompileCache?.();',
      "const { main } = await import('./main.js');",
      'process.exitCode = await main(process.argv);',
      '',
    ].join('\n'),
  );
  project.provide('cliEntry', entry);
  project.provide('fixturesDir', fixturesDir);
  return () => rmSync(dir, { recursive: true, force: true });
}
