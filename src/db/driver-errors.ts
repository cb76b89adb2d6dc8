import { debugHint } from '../debug-detail.ts';
import { errorCode } from '../error-code.ts';
import { AlarmboxError } from '../errors.ts';
import { type DriverErrorKind, kindOfCode } from './dialects/adapter.ts';
import { adapterFor } from './dialects/index.ts';
import { QUERY_TIMEOUT_CODE, UNRESPONSIVE_CODE } from './dialects/timeouts.ts';
import { DatabaseUnavailableError, MigrationsPendingError } from './errors.ts';
import { LOCKS_TABLE, TOKENS_TABLE } from './schema.ts';
import { describeDatabase } from './source.ts';
import {
  DatabaseTlsError,
  plaintextAuthHint,
  tlsFailureMessage,
  tlsFailureOf,
  tlsRequiredMessage,
} from './tls-errors.ts';
import { type DatabaseTarget, describeTarget, hostPort } from './url.ts';

interface Classified {
  readonly kind: DriverErrorKind | 'closed';
  readonly code: string;
}

// Node's socket errors (mysql2 and pg both surface them as is), and the query timeout of our pools. What each
// driver says beyond these is its adapter's to know.
const SOCKET_CODES: Partial<Record<DriverErrorKind, readonly string[]>> = {
  unreachable: [
    'ECONNREFUSED',
    'ECONNRESET',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'EHOSTDOWN',
    'EPIPE',
    'ECONNABORTED',
  ],
  timeout: ['ETIMEDOUT', 'ETIMEOUT', QUERY_TIMEOUT_CODE, UNRESPONSIVE_CODE],
};

// Kysely's own words for a query on a destroyed instance: what every query after `close()` meets.
const DESTROYED_MESSAGE = 'driver has already been destroyed';

/**
 * Names an error thrown by a driver (connecting or mid-query) with this package's typed errors:
 * {@link DatabaseUnavailableError} ('temporary' or 'configuration') or {@link MigrationsPendingError}.
 * Errors of this package pass through; undefined when the error is none this package can name.
 */
export function namedDatabaseError(error: unknown, target: DatabaseTarget): AlarmboxError | undefined {
  if (error instanceof AlarmboxError) return error;
  // Node's TLS errors carry a string `reason` of their own ("IP: 127.0.0.1 is not in the cert's list: "); named
  // here, by their codes and words, they are the configuration problem they are.
  const tls = target.dialect === 'sqlite' ? undefined : tlsFailureOf(error);
  if (tls !== undefined && target.dialect !== 'sqlite') {
    const message = tlsFailureMessage(tls, hostPort(target.host, target.port), target.dialect);
    return new DatabaseTlsError(tls.code, message, { cause: error });
  }
  const full = diskFullError(error, target);
  if (full !== undefined) return full;
  const classified = classify(error, target);
  return classified === undefined ? undefined : build(classified, target, error);
}

/**
 * {@link namedDatabaseError}, or an `unexpected` error naming the database and the driver's code: a foreign error
 * never leaves the database layer as it is (whatever its shape: TLS errors carry a `reason` string of their own).
 * `throw toDatabaseError(error, handle.target)` is always safe in a `catch`.
 */
export function toDatabaseError(error: unknown, target: DatabaseTarget): AlarmboxError {
  return (
    namedDatabaseError(error, target) ??
    new AlarmboxError(
      `データベースで予期しないエラーが発生しました (${describeTarget(target)}: ${errorCode(error) ?? nameOf(error)})。${debugHint()}`,
      { reason: 'unexpected', cause: error },
    )
  );
}

/** Like {@link toDatabaseError}, but something is always reported as a database failure ('temporary'). */
export function toConnectionError(error: unknown, target: DatabaseTarget): AlarmboxError {
  return (
    namedDatabaseError(error, target) ??
    build({ kind: 'unreachable', code: errorCode(error) ?? nameOf(error) }, target, error)
  );
}

/** Kinds a retry can cure ('temporary'); the others need a person to fix the setup ('configuration'). */
const TEMPORARY: ReadonlySet<Classified['kind']> = new Set(['closed', 'timeout', 'unreachable', 'busy']);

/** The message of each kind reported as a DatabaseUnavailableError; `label` is the database and the code. */
const MESSAGES: Readonly<
  Record<
    Exclude<Classified['kind'], 'missing_schema' | 'tls_required'>,
    (label: string, target: DatabaseTarget) => string
  >
> = {
  closed: (_, target) =>
    `alarmbox は終了処理中です (close() の後に呼ばれました、${describeTarget(target)})。新しいインスタンスで再実行してください。`,
  timeout: (label) =>
    `データベースが時間内に応答しませんでした (${label})。データベースの状態とネットワークを確認し、しばらくしてから再実行してください。`,
  unreachable: (label) =>
    `データベースに接続できません (${label})。DATABASE_URL とデータベースの起動状態を確認してください。`,
  busy: (label) =>
    `データベースが他の処理でロックされています (${label})。しばらくしてから再実行してください。`,
  auth: (label, target) =>
    `データベースの認証に失敗しました (${label})。DATABASE_URL のユーザー名とパスワードを確認してください。${target.dialect === 'mysql' && target.tls.mode === 'disable' ? plaintextAuthHint() : ''}`,
  unknown_database: (label) =>
    `データベースが存在しません (${label})。データベースを作成するか、DATABASE_URL のデータベース名を確認してください。`,
  permission: (label) =>
    `データベースの権限が足りません (${label})。DATABASE_URL のユーザーの権限 (SQLite ではファイルとディレクトリの書き込み権限) を確認してください。`,
  sqlite_path: (label) =>
    `データベースファイルを開けません (${label})。DATABASE_URL のパスとディレクトリの権限を確認してください。`,
};

function build({ kind, code }: Classified, target: DatabaseTarget, cause: unknown): AlarmboxError {
  const label = `${describeTarget(target)}: ${code}`;
  if (kind === 'missing_schema') {
    return new MigrationsPendingError(describeDatabase(target), missingWhat(cause, code), { cause });
  }
  if (kind === 'tls_required') {
    const message =
      target.dialect === 'sqlite'
        ? `データベースが TLS を要求しています (${label})。`
        : tlsRequiredMessage(hostPort(target.host, target.port), target.dialect, code);
    return new DatabaseTlsError(code, message, { cause });
  }
  const reason = TEMPORARY.has(kind) ? 'temporary' : 'configuration';
  return new DatabaseUnavailableError(reason, code, MESSAGES[kind](label, target), { cause });
}

function classify(error: unknown, target: DatabaseTarget): Classified | undefined {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : '';
  if (message === DESTROYED_MESSAGE) return { kind: 'closed', code: 'CLOSED' };
  const kind = kindOfCode(SOCKET_CODES, code) ?? adapterFor(target.dialect).classifyError(code, message);
  if (kind === undefined) return undefined;
  return { kind, code: code ?? (kind === 'timeout' ? 'TIMEOUT' : 'CONNECTION_TERMINATED') };
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

// --- Full disk -------------------------------------------------------------------------------------------
// A write the storage refused for lack of space: SQLite's SQLITE_FULL (the file's disk, or a max_page_count)
// and SQLITE_IOERR_SHMSIZE (its -shm file could not grow: a disk so full that even a read cannot start),
// MySQL / MariaDB's ER_RECORD_FILE_FULL (1114: the table's file cannot grow, a full disk or a size limit) and
// ER_DISK_FULL (1021), PostgreSQL's class 53 `disk_full` (53100). Named, with the file or server, so that a
// full disk is not an "unexpected error". Temporary (exit 5): nothing is wrong with the setup, and the same
// run succeeds once space is freed.
const DISK_FULL_CODES: ReadonlySet<string> = new Set([
  'SQLITE_FULL',
  'SQLITE_IOERR_SHMSIZE',
  'ER_RECORD_FILE_FULL',
  'ER_DISK_FULL',
  '53100',
]);

function diskFullError(error: unknown, target: DatabaseTarget): DatabaseUnavailableError | undefined {
  const code = errorCode(error);
  if (code === undefined || !DISK_FULL_CODES.has(code)) return undefined;
  const where =
    target.dialect === 'sqlite'
      ? 'データベースファイルのあるディスクの空きを確認し、空きを作ってから再実行してください'
      : 'データベースサーバーのディスクの空き (MySQL / MariaDB では表の大きさの上限も) を確認し、空きを作ってから再実行してください';
  return new DatabaseUnavailableError(
    'temporary',
    code,
    `データベースのディスクがいっぱいで書き込めません (${describeTarget(target)}: ${code})。${where}。`,
    { cause: error },
  );
}
