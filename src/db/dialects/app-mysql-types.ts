// The shapes of a mysql2 pool this package uses, written out: they are public (createAlarmbox({ database: { mysql } }))
// and an app that uses PostgreSQL or SQLite has no mysql2 types to resolve them from.
/** A mysql2 pool (`mysql.createPool(...)` of `mysql2`, or `.pool` of a `mysql2/promise` pool). */
export interface AppMysqlPool {
  /** Checks a connection out (mysql2's callback `pool.getConnection`). */
  getConnection(callback: (error: unknown, connection: AppMysqlConnection) => void): void;
}

/**
 * A connection checked out of an {@link AppMysqlPool}; this package's own pool's connections are ones too
 * (the wrapper below serves both).
 */
export interface AppMysqlConnection {
  /** One query with per-query options (mysql2's `connection.query(options, callback)`). */
  query(
    options: {
      sql: string;
      values?: unknown[];
      timeout?: number;
      timezone?: string;
      supportBigNumbers?: boolean;
    },
    callback: (error: unknown, result: unknown) => void,
  ): unknown;
  /** Back to the pool. */
  release(): void;
  /** Closes the connection (a query that timed out: its answer may still come). */
  destroy(): void;
  readonly threadId: number | null;
  readonly config: { readonly host?: string | undefined; readonly port?: number | undefined };
}
