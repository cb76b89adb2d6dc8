import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct statements this toolkit issues are a few dozen; the bound only guards against a caller's loop. */
const MAX_STATEMENTS = 64;

/**
 * Kysely's SQLite driver prepares every query anew, and better-sqlite3's `prepare` is most of the cost of
 * reading row 1 (the hot path of `getValidAccessToken`). The queries are fixed texts with bound parameters,
 * so a prepared statement per SQL text can be reused. Safe because Kysely runs one query at a time on the
 * single SQLite connection, and `all`/`run` finish before the next one starts.
 */
export function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value ?? '');
        statements.set(sql, statement);
      }
      return statement;
    },
    close(): void {
      statements.clear();
      database.close();
    },
  };
}
