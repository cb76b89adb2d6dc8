import { isReasonedError } from '../failure-reason.ts';
import { DatabaseUnavailableError, MigrationsPendingError } from './errors.ts';
import { LOCKS_TABLE, TOKENS_TABLE } from './schema.ts';
import { type DatabaseTarget, describeTarget } from './url.ts';

/** What went wrong, independent of the driver that said it. */
type Kind =
  | 'unreachable'
  | 'timeout'
  | 'auth'
  | 'unknown_database'
  | 'permission'
  | 'busy'
  | 'sqlite_path'
  | 'missing_schema';

interface Classified {
  readonly kind: Kind;
  readonly code: string;
}

// Node's socket errors (mysql2 and pg both surface them as is).
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EPIPE',
  'ECONNABORTED',
  // mysql2
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  // PostgreSQL SQLSTATE: too_many_connections, admin_shutdown, crash_shutdown, cannot_connect_now
  '53300',
  '57P01',
  '57P02',
  '57P03',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ETIMEOUT', 'PROTOCOL_SEQUENCE_TIMEOUT']);
// Contention inside the server: retrying later helps. PostgreSQL: serialization_failure, deadlock_detected,
// lock_not_available, query_canceled (statement_timeout).
const BUSY_CODES = new Set(['ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK', '40001', '40P01', '55P03', '57014']);
const AUTH_CODES = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_NOT_SUPPORTED_AUTH_MODE',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
  // invalid_authorization_specification (unknown role, pg_hba reject), invalid_password
  '28000',
  '28P01',
]);
const UNKNOWN_DATABASE_CODES = new Set(['ER_BAD_DB_ERROR', '3D000']);
const PERMISSION_CODES = new Set([
  'ER_DBACCESS_DENIED_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  '42501',
  'SQLITE_READONLY',
  'SQLITE_PERM',
  'SQLITE_AUTH',
]);
// A table or column this code expects is not there: the schema is older than the code.
const MISSING_SCHEMA_CODES = new Set(['ER_NO_SUCH_TABLE', 'ER_BAD_FIELD_ERROR', '42P01', '42703']);
// SQLite's own, plus what creating its parent directory can hit (EEXIST: a file sits where the directory goes).
const SQLITE_PATH_CODES = new Set([
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
  'EACCES',
  'EPERM',
  'ENOTDIR',
  'EEXIST',
  'EROFS',
  'EISDIR',
]);

/**
 * Maps an error thrown by a driver (connecting or mid-query) to this package's typed errors:
 * {@link DatabaseUnavailableError} ('temporary' or 'configuration') or {@link MigrationsPendingError}.
 * Errors of this package pass through; anything it cannot name is returned unchanged, so
 * `throw toDatabaseError(error, handle.target)` is always safe in a `catch`.
 */
export function toDatabaseError(error: unknown, target: DatabaseTarget): Error {
  if (isReasonedError(error)) return error;
  const classified = classify(error);
  if (classified === undefined) return error instanceof Error ? error : new Error(String(error));
  return build(classified, target, error);
}

/** Like {@link toDatabaseError}, but something is always reported as a database failure ('temporary'). */
export function toConnectionError(error: unknown, target: DatabaseTarget): Error {
  const mapped = toDatabaseError(error, target);
  if (isReasonedError(mapped)) return mapped;
  return build({ kind: 'unreachable', code: codeOf(error) ?? nameOf(error) }, target, error);
}

function build(classified: Classified, target: DatabaseTarget, cause: unknown): Error {
  const label = `${describeTarget(target)}: ${classified.code}`;
  const options = { cause };
  // File-system codes only mean "the SQLite path is unusable" for SQLite (a server's socket can say EACCES too).
  const kind =
    classified.kind === 'sqlite_path' && target.dialect !== 'sqlite' ? 'unreachable' : classified.kind;
  switch (kind) {
    case 'unreachable':
    case 'timeout':
      return new DatabaseUnavailableError(
        'temporary',
        classified.code,
        `データベースに接続できません (${label})。DATABASE_URL とデータベースの起動状態を確認してください。`,
        options,
      );
    case 'busy':
      return new DatabaseUnavailableError(
        'temporary',
        classified.code,
        `データベースが他の処理でロックされています (${label})。しばらくしてから再実行してください。`,
        options,
      );
    case 'auth':
      return new DatabaseUnavailableError(
        'configuration',
        classified.code,
        `データベースの認証に失敗しました (${label})。DATABASE_URL のユーザー名とパスワードを確認してください。`,
        options,
      );
    case 'unknown_database':
      return new DatabaseUnavailableError(
        'configuration',
        classified.code,
        `データベースが存在しません (${label})。データベースを作成するか、DATABASE_URL のデータベース名を確認してください。`,
        options,
      );
    case 'permission':
      return new DatabaseUnavailableError(
        'configuration',
        classified.code,
        `データベースの権限が足りません (${label})。DATABASE_URL のユーザーの権限 (SQLite ではファイルとディレクトリの書き込み権限) を確認してください。`,
        options,
      );
    case 'sqlite_path':
      return new DatabaseUnavailableError(
        'configuration',
        classified.code,
        `データベースファイルを開けません (${label})。DATABASE_URL のパスとディレクトリの権限を確認してください。`,
        options,
      );
    case 'missing_schema':
      return new MigrationsPendingError(describeTarget(target), missingWhat(cause, classified.code), options);
  }
}

function classify(error: unknown): Classified | undefined {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : '';
  if (code !== undefined) {
    if (UNREACHABLE_CODES.has(code)) return { kind: 'unreachable', code };
    if (TIMEOUT_CODES.has(code)) return { kind: 'timeout', code };
    if (BUSY_CODES.has(code)) return { kind: 'busy', code };
    if (AUTH_CODES.has(code)) return { kind: 'auth', code };
    if (UNKNOWN_DATABASE_CODES.has(code)) return { kind: 'unknown_database', code };
    if (PERMISSION_CODES.has(code)) return { kind: 'permission', code };
    if (MISSING_SCHEMA_CODES.has(code)) return { kind: 'missing_schema', code };
    if (SQLITE_PATH_CODES.has(code)) return { kind: 'sqlite_path', code };
    // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED, SQLITE_LOCKED_SHAREDCACHE…
    if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return { kind: 'busy', code };
    if (code.startsWith('SQLITE_') && /no such (table|column)/i.test(message))
      return { kind: 'missing_schema', code };
  }
  // pg reports its own connect timeout and dropped sockets without a code.
  if (/timeout expired|connection timeout/i.test(message)) return { kind: 'timeout', code: 'TIMEOUT' };
  if (/Connection terminated/i.test(message)) return { kind: 'unreachable', code: 'CONNECTION_TERMINATED' };
  return undefined;
}

/** The first usable code: the error's own, or (Node's happy-eyeballs `AggregateError`) that of its parts. */
function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  if (typeof code === 'number') return String(code);
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = codeOf(inner);
      if (innerCode !== undefined) return innerCode;
    }
  }
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error ? codeOf(cause) : undefined;
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** Names the missing table when it is one of ours; the driver's message is not repeated. */
function missingWhat(error: unknown, code: string): string {
  const message = error instanceof Error ? error.message : '';
  for (const table of [TOKENS_TABLE, LOCKS_TABLE]) {
    if (message.includes(table)) return `テーブル ${table} がないか古い形です, ${code}`;
  }
  return `必要なテーブルまたは列がありません, ${code}`;
}

/**
 * A unique or primary key already held the value an INSERT gave it: MariaDB's ER_DUP_ENTRY, PostgreSQL's
 * unique_violation (23505), SQLite's SQLITE_CONSTRAINT_PRIMARYKEY / _UNIQUE. Nothing else: another kind of
 * constraint failure is a different problem, never to be taken for "someone inserted it first".
 */
export function isDuplicateKey(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return (
    code === 'ER_DUP_ENTRY' ||
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

/** The driver's error code, for a message that must not repeat the driver's text. */
export function driverCodeOf(error: unknown): string | undefined {
  return codeOf(error);
}
