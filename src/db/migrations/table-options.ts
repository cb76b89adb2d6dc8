import { type CreateTableBuilder, sql } from 'kysely';
import type { DatabaseDialect } from '../url.ts';

/**
 * On MySQL / MariaDB, pins what the server default might get wrong: InnoDB (transactions, row locks) and
 * utf8mb4 with a binary collation (Japanese `last_error` text; lock names and owners compared exactly).
 */
export function withTableOptions<T extends string, C extends string>(
  dialect: DatabaseDialect,
  builder: CreateTableBuilder<T, C>,
): CreateTableBuilder<T, C> {
  if (dialect !== 'mysql') return builder;
  return builder.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
}
