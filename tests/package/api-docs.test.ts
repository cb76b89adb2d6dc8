// Every exported symbol of both entry points has a TSDoc comment, and every {@link} resolves: TypeDoc's
// validation (typedoc.json) with its warnings as errors, the same check as `npm run docs:check`.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

it('documents every public symbol (TypeDoc validation)', async () => {
  const result = await exec(
    join(root, 'node_modules/.bin/typedoc'),
    ['--emit', 'none', '--treatValidationWarningsAsErrors'],
    { cwd: root },
  ).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(
      `TypeDoc found undocumented symbols or broken links:\n${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
  });
  expect(result.stdout).not.toContain('[warning]');
}, 120_000);
