// The database matrix of the test suite: every database test runs on SQLite, MariaDB/MySQL and PostgreSQL,
// each test file in databases of its own so files can run in parallel. With CI set, an unreachable server
// fails the suite; without, its tests are skipped and the reason is shown.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  type DatabaseHandle,
  type DatabaseTarget,
  type OpenDatabaseOptions,
  openDatabase,
  parseDatabaseUrl,
} from '../../src/db/index.ts';

export const databaseKinds = ['sqlite', 'mysql', 'postgres'] as const;
export type DatabaseKind = (typeof databaseKinds)[number];
type ServerKind = Exclude<DatabaseKind, 'sqlite'>;

/** Where the test servers are; the URL's database must exist (it is only used to create and drop others). */
export function adminUrl(kind: ServerKind): string {
  if (kind === 'mysql') return process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
  return process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export interface TestDatabase {
  readonly kind: DatabaseKind;
  /** A DATABASE_URL for this database (what a child process would be given). */
  readonly url: string;
  readonly target: DatabaseTarget;
  /** Deletes the database (or the SQLite file and its directory). */
  drop(): Promise<void>;
}

/** A new, empty database of `kind`: `alarmbox_test_<random>` on a server, a temp file for SQLite. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'alarmbox-test-'));
    const url = `sqlite:${join(dir, 'alarmbox.db')}`;
    // What `create database` is on a server: an empty database (opening never creates the file).
    writeFileSync(join(dir, 'alarmbox.db'), '', { mode: 0o600 });
    return {
      kind,
      url,
      target: parseDatabaseUrl(url),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `alarmbox_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(kind, (admin) => sql`create database ${sql.id(name)}`.execute(admin.db));
  const url = replaceDatabase(adminUrl(kind), name);
  return {
    kind,
    url,
    target: parseDatabaseUrl(url),
    drop: () =>
      withAdmin(kind, async (admin) => {
        // FORCE: a child process killed with SIGKILL may leave a connection the server has not noticed yet.
        const force = kind === 'postgres' ? sql` with (force)` : sql``;
        await sql`drop database if exists ${sql.id(name)}${force}`.execute(admin.db);
      }),
  };
}

function replaceDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function withAdmin(kind: ServerKind, body: (admin: DatabaseHandle) => Promise<unknown>): Promise<void> {
  const admin = openDatabase(parseDatabaseUrl(adminUrl(kind)), { poolSize: 1 });
  try {
    await body(admin);
  } finally {
    await admin.close();
  }
}

/** Why `kind` cannot be used, or undefined when its server answers. */
async function unavailableReason(kind: DatabaseKind): Promise<string | undefined> {
  if (kind === 'sqlite') return undefined;
  const target = parseDatabaseUrl(adminUrl(kind));
  const handle = openDatabase(target, { poolSize: 1 });
  try {
    await handle.ping();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await handle.close();
  }
}

let probed: Promise<Map<DatabaseKind, string | undefined>> | undefined;
function probeAll(): Promise<Map<DatabaseKind, string | undefined>> {
  probed ??= Promise.all(
    databaseKinds.map(async (kind) => [kind, await unavailableReason(kind)] as const),
  ).then((entries) => new Map(entries));
  return probed;
}

/** The kinds whose server answers right now (SQLite always does). */
export async function availableDatabaseKinds(): Promise<DatabaseKind[]> {
  const availability = await probeAll();
  return databaseKinds.filter((kind) => availability.get(kind) === undefined);
}

// describe() callbacks are synchronous, so availability is settled once, when this module loads.
const availability = await probeAll();

/** What a `describeEachDatabase` body gets: filled in by its beforeAll, so read it inside hooks and tests. */
export interface DatabaseFixture {
  readonly kind: DatabaseKind;
  readonly url: string;
  readonly target: DatabaseTarget;
  /** Opened (not migrated) before the tests, closed after them. */
  readonly handle: DatabaseHandle;
  /** Another handle on the same database, closed after the tests. */
  open(options?: OpenDatabaseOptions): DatabaseHandle;
}

export interface DescribeEachDatabaseOptions {
  /**
   * Run the kinds side by side (the tests of one kind still run one after another). For suites that mostly
   * wait (leases expiring, child processes): only when no test touches process-wide state (Date.now spies,
   * process.env).
   */
  readonly concurrentKinds?: boolean;
}

/**
 * `describe(name [kind], fn)` for every database kind, each kind with a fresh database of its own that is
 * dropped afterwards.
 */
export function describeEachDatabase(
  name: string,
  fn: (fixture: DatabaseFixture) => void,
  options: DescribeEachDatabaseOptions = {},
): void {
  for (const kind of databaseKinds) {
    const title = `${name} [${kind}]`;
    if (describeUnavailable(kind, title, () => fn(pendingFixture(kind)))) continue;
    const concurrent = options.concurrentKinds === true;
    describe(title, { concurrent }, () => {
      const fixture = new LiveFixture(kind);
      beforeAll(() => fixture.setUp());
      afterAll(() => fixture.tearDown());
      // The kinds may run side by side, but the tests of one kind share a database: keep them in order.
      if (concurrent) describe('in order', { concurrent: false }, () => fn(fixture));
      else fn(fixture);
    });
  }
}

/**
 * `describe(name, fn)` for tests that talk to the server of `kind` without the per-file database (its
 * admin URL, a wrong password…), under the same rule: fail with CI set, skip visibly without.
 */
export function describeWithServer(kind: ServerKind, name: string, fn: () => void): void {
  if (!describeUnavailable(kind, name, fn)) describe(name, fn);
}

/** When `kind` is unreachable, registers the failing (CI) or skipped suite and returns true. */
function describeUnavailable(kind: DatabaseKind, title: string, fn: () => void): boolean {
  const reason = availability.get(kind);
  if (reason === undefined) return false;
  if (process.env.CI) {
    describe(title, () => {
      it(`${kind} server is reachable`, () => {
        throw new Error(
          `${kind} server is unreachable (${reason}). CI never skips database tests: start the server ` +
            `(see DEVELOPERS.md) or point TEST_${kind.toUpperCase()}_URL at one.`,
        );
      });
    });
  } else {
    console.warn(`[databases] skipping "${title}": ${reason} (set CI=1 to make this a failure)`);
    describe.skip(`${title} (skipped: ${kind} server unreachable)`, fn);
  }
  return true;
}

class LiveFixture implements DatabaseFixture {
  readonly kind: DatabaseKind;
  #database: TestDatabase | undefined;
  #handle: DatabaseHandle | undefined;
  readonly #opened: DatabaseHandle[] = [];

  constructor(kind: DatabaseKind) {
    this.kind = kind;
  }

  async setUp(): Promise<void> {
    this.#database = await createTestDatabase(this.kind);
    this.#handle = this.open();
  }

  async tearDown(): Promise<void> {
    await Promise.all(this.#opened.map((handle) => handle.close()));
    await this.#database?.drop();
  }

  get url(): string {
    return this.#ready().url;
  }
  get target(): DatabaseTarget {
    return this.#ready().target;
  }
  get handle(): DatabaseHandle {
    this.#ready();
    return this.#handle!;
  }

  open(options?: OpenDatabaseOptions): DatabaseHandle {
    const handle = openDatabase(this.#ready().target, options);
    this.#opened.push(handle);
    return handle;
  }

  #ready(): TestDatabase {
    if (this.#database === undefined)
      throw new Error('the database fixture is only ready inside hooks and tests');
    return this.#database;
  }
}

function pendingFixture(kind: DatabaseKind): DatabaseFixture {
  const unavailable = (): never => {
    throw new Error(`${kind} is unavailable`);
  };
  return {
    kind,
    get url() {
      return unavailable();
    },
    get target() {
      return unavailable();
    },
    get handle() {
      return unavailable();
    },
    open: unavailable,
  };
}
