// Issue "every failure named" §1: a foreign error of any shape, thrown from the database driver or from fetch
// beneath a CLI command, never ends in exit 0. Node's TLS errors and OpenSSL's carry a string `reason` of their
// own; when errors were classified by shape, such an error reached the exit code as an unknown reason and the
// process exited 0. Each run starts the bundled CLI with tests/fixtures/foreign-error-preload.ts, which makes the
// driver or fetch fail from its Nth call on.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { alarmboxFor, emulatorEnv, registerToken } from '../support/alarmbox.ts';
import { runCli } from '../support/cli.ts';
import { availableDatabaseKinds, createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { fixturePath } from '../support/node-scripts.ts';

const KEYS = 'k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';
type Layer = 'fetch' | 'sqlite' | 'postgres';

const EVERY_DATABASE_COMMAND: readonly (readonly string[])[] = [
  ['migrate'],
  ['status'],
  ['status', '--json'],
  ['access-token'],
  ['refresh-token'],
  ['refresh-token', '--log-format', 'json'],
  ['expire-token'],
  ['rekey'],
  ['doctor'],
  ['save-token', '--code', 'code-from-the-test'],
  ['credit-check', '--corporation-number', '0000000000001', '--json'],
];
// The commands that must reach AlarmBox (the stored pair is expired, so access-token and credit-check refresh).
const EVERY_FETCH_COMMAND: readonly (readonly string[])[] = [
  ['refresh-token'],
  ['refresh-token', '--log-format', 'json'],
  ['access-token'],
  ['save-token', '--code', 'code-from-the-test'],
  ['credit-check', '--corporation-number', '0000000000001', '--json'],
  ['doctor'],
  // From the first request on: the revocation fails, so the pair stays for the commands after it.
  ['revoke', '--yes'],
];

const anyValue = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 2 }),
);
// Codes that some part of the package names (the driver maps, the TLS and network checks), so that a foreign
// error also meets the explicit mappings, not only the fallback.
const knownCode = fc.constantFrom(
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'ERR_OSSL_PEM_NO_START_LINE',
  'UND_ERR_SOCKET',
  'SQLITE_BUSY',
  'SQLITE_CONSTRAINT_PRIMARYKEY',
  'SQLITE_FULL',
  '28P01',
  '23505',
  '42P01',
  'ER_LOCK_WAIT_TIMEOUT',
);
const foreignShape = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      {
        name: fc.constantFrom(
          'Error',
          'TypeError',
          'AbortError',
          'TimeoutError',
          'SqliteError',
          'DatabaseError',
        ),
        message: fc.string({ maxLength: 40 }),
        props: fc.record(
          { reason: anyValue, code: fc.oneof(knownCode, anyValue), errno: anyValue },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ['name', 'message', 'props'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ value: anyValue }) },
);
// What Node's TLS said for a PostgreSQL certificate issued for another name: the case that exited 0.
const TLS_ALTNAME = {
  name: 'Error',
  message: "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
  props: {
    reason: "IP: 127.0.0.1 is not in the cert's list: ",
    code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    host: '127.0.0.1',
  },
};

describe('a foreign error beneath any CLI command never exits 0', () => {
  let emulator: RunningEmulator;
  let dir: string;
  const databases: TestDatabase[] = [];
  const envs = new Map<Layer, Record<string, string>>();

  /** A migrated database with an expired pair registered through the emulator. */
  async function registered(database: TestDatabase): Promise<Record<string, string>> {
    databases.push(database);
    const alarmbox = alarmboxFor(emulator, database.url, KEYS);
    try {
      await migrateToLatest(alarmbox.database);
      await registerToken(alarmbox, emulator);
      await alarmbox.store.markExpired();
    } finally {
      await alarmbox.close();
    }
    return emulatorEnv(emulator, database.url, KEYS, {
      ALARMBOX_HTTP_TIMEOUT_MS: '3000',
      ALARMBOX_JOB_RETRIES: '0',
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alarmbox-foreign-'));
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    envs.set('fetch', await registered(await createTestDatabase('sqlite')));
    envs.set('sqlite', await registered(await createTestDatabase('sqlite')));
    if ((await availableDatabaseKinds()).includes('postgres') || process.env.CI) {
      envs.set('postgres', await registered(await createTestDatabase('postgres')));
    }
  });
  afterAll(async () => {
    await emulator?.close();
    await Promise.all(databases.map((database) => database.drop()));
    rmSync(dir, { recursive: true, force: true });
  });

  let run = 0;
  async function runWithForeignError(
    layer: Layer,
    args: readonly string[],
    shape: object,
    after: number,
  ): Promise<number> {
    const env = envs.get(layer);
    if (env === undefined) throw new Error(`no database for ${layer}`);
    const firedFile = join(dir, `fired-${run++}`);
    const result = await runCli(args, {
      ...env,
      NODE_OPTIONS: `--import=${pathToFileURL(fixturePath('foreign-error-preload.ts')).href}`,
      ALARMBOX_TEST_FOREIGN_ERROR: JSON.stringify({ layer, after, firedFile, ...shape }),
    });
    const fired = existsSync(firedFile) ? readFileSync(firedFile, 'utf8').split('\n').length - 1 : 0;
    if (fired > 0) {
      expect(
        result.code,
        `alarmbox ${args.join(' ')} with ${JSON.stringify(shape)} after ${after} calls: ${result.stdout}${result.stderr}`,
      ).not.toBe(0);
      // In Japanese, and never the foreign message itself: it may quote a connection string or a token.
      expect(result.stderr + result.stdout).toMatch(/[ぁ-んァ-ヶ一-龠]/);
      const message = (shape as { message?: unknown }).message;
      if (typeof message === 'string' && message.trim().length >= 12)
        expect(result.stderr + result.stdout).not.toContain(message);
    }
    return fired;
  }

  /** The fixed case: every command meets the failure (else the test would prove nothing) and exits non-zero. */
  async function eachCommandMeets(layer: Layer, commands: readonly (readonly string[])[]): Promise<void> {
    for (const args of commands) {
      const fired = await runWithForeignError(layer, args, TLS_ALTNAME, 0);
      expect(fired, `alarmbox ${args.join(' ')} never reached the ${layer} layer`).toBeGreaterThan(0);
    }
  }

  it('fetch: the TLS error that once exited 0, and random shapes, from the first request on', async () => {
    await eachCommandMeets('fetch', EVERY_FETCH_COMMAND);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...EVERY_FETCH_COMMAND), foreignShape, async (args, shape) => {
        await runWithForeignError('fetch', args, shape, 0);
      }),
      { numRuns: 12 },
    );
  }, 120_000);

  for (const layer of ['sqlite', 'postgres'] as const) {
    it(`${layer}: the TLS error, and random shapes, from the Nth query on`, async () => {
      await eachCommandMeets(layer, EVERY_DATABASE_COMMAND);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...EVERY_DATABASE_COMMAND),
          foreignShape,
          fc.integer({ min: 0, max: 6 }),
          async (args, shape, after) => {
            await runWithForeignError(layer, args, shape, after);
          },
        ),
        { numRuns: 15 },
      );
    }, 180_000);
  }
});
