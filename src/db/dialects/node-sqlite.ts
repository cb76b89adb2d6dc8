import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { sqliteCodeName } from './sqlite-result-codes.ts';

/** Distinct statements this toolkit issues are a few dozen; the bound only guards against a caller's loop. */
const MAX_STATEMENTS = 64;

type NodeSqlite = typeof import('node:sqlite');

/**
 * Node's built-in SQLite (`node:sqlite`, unflagged since Node 22.13), loaded when a SQLite database is first
 * opened. `process.getBuiltinModule` instead of an `import` statement: it is synchronous, so the one
 * ExperimentalWarning Node 22 prints for this module can be held back precisely (Node 24 prints none), and no
 * bundler has a module specifier to resolve.
 */
export function loadNodeSqlite(): NodeSqlite {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    if (!isSqliteExperimentalWarning(warning, rest[0])) {
      Reflect.apply(emitWarning, this, [warning, ...rest]);
    }
  } as typeof process.emitWarning;
  try {
    return process.getBuiltinModule('node:sqlite');
  } finally {
    process.emitWarning = emitWarning;
  }
}

// Node 22's lib/sqlite.js: emitExperimentalWarning('SQLite') → "SQLite is an experimental feature and might
// change at any time", type ExperimentalWarning. Nothing else is held back.
function isSqliteExperimentalWarning(warning: string | Error, type: unknown): boolean {
  const [text, kind] =
    typeof warning === 'string'
      ? [warning, typeof type === 'object' ? (type as { type?: unknown })?.type : type]
      : [warning.message, warning.name];
  return kind === 'ExperimentalWarning' && text.startsWith('SQLite is an experimental feature');
}

/**
 * Kysely's `SqliteDialect` expects better-sqlite3's shape: `prepare(sql)` gives a statement with `reader`,
 * and `all`/`run`/`iterate` taking the parameters as one array. This is that shape over a `DatabaseSync`:
 *
 * - parameters are spread (node:sqlite binds positional parameters as separate arguments);
 * - `reader` is whether the statement returns columns (`StatementSync#columns()`, Node 22.16+/23.11+). Node
 *   22.14 and 22.15 lack it: there the statement's text decides ({@link returnsRows});
 * - errors get SQLite's name as their `code` (SQLITE_BUSY, SQLITE_CONSTRAINT_PRIMARYKEY…, where node:sqlite
 *   says ERR_SQLITE_ERROR with a number in `errcode`), which is what the adapter classifies by;
 * - prepared statements are kept per SQL text: Kysely prepares every query anew, and preparing is most of the
 *   cost of reading row 1 (the hot path of `getValidAccessToken`). Safe because Kysely runs one query at a
 *   time on the single SQLite connection, and `all`/`run` finish before the next one starts.
 */
export function kyselySqliteDatabase(database: DatabaseSync): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = wrapStatement(
          named(() => database.prepare(sql)),
          sql,
        );
        if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value ?? '');
        statements.set(sql, statement);
      }
      return statement;
    },
    close(): void {
      statements.clear();
      named(() => database.close());
    },
  };
}

type Parameter = null | number | bigint | string | NodeJS.ArrayBufferView;

function wrapStatement(statement: StatementSync, sql: string): SqliteStatement {
  const reader = typeof statement.columns === 'function' ? statement.columns().length > 0 : returnsRows(sql);
  const args = (parameters: ReadonlyArray<unknown>) => parameters as Parameter[];
  return {
    reader,
    all: (parameters) => named(() => statement.all(...args(parameters))),
    run: (parameters) => named(() => statement.run(...args(parameters))),
    iterate: (parameters) => named(() => statement.iterate(...args(parameters))),
  };
}

/**
 * Whether a statement returns rows, from its text, for Node versions without `StatementSync#columns()`:
 * queries (`select`, `with`, `values`, `pragma` — a pragma that answers nothing gives no rows either way) and
 * writes with a `returning` clause. Kysely writes keywords in lower case; tests compare it with `columns()`.
 */
export function returnsRows(sql: string): boolean {
  const text = sql.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, '').toLowerCase();
  if (/^(select|with|values|pragma|explain)\b/.test(text)) return true;
  return /\breturning\b/.test(text);
}

function named<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw withSqliteCode(error);
  }
}

/** node:sqlite's error with SQLite's name for `errcode` as its `code`; any other value as it is. */
export function withSqliteCode(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const fields = error as Error & { code?: unknown; errcode?: unknown };
  if (fields.code !== 'ERR_SQLITE_ERROR' || typeof fields.errcode !== 'number') return error;
  const name = sqliteCodeName(fields.errcode);
  if (name !== undefined) fields.code = name;
  return error;
}
