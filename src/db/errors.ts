import { AlarmboxError } from '../errors.ts';
import type { FailureReason } from '../failure-reason.ts';

const URL_EXAMPLES =
  '例: sqlite:.alarmbox/alarmbox.db / mysql://user:pass@127.0.0.1:3306/app / postgres://user:pass@127.0.0.1:5432/app';

/** `DATABASE_URL` cannot be understood. The message never repeats the URL itself: it may hold a password. */
export class DatabaseUrlError extends AlarmboxError {
  override readonly name: string = 'DatabaseUrlError';
  constructor(cause: string) {
    super(`DATABASE_URL の形式が正しくありません (${cause})。${URL_EXAMPLES}`, { reason: 'configuration' });
  }
}

/**
 * The database could not be reached or refused us. `reason` says whether retrying can help
 * ('temporary': refused, timeout, unknown host, busy) or a person must fix the setup ('configuration':
 * wrong password, unknown database, missing privilege, unusable SQLite path, a certificate problem).
 */
export class DatabaseUnavailableError extends AlarmboxError {
  override readonly name: string = 'DatabaseUnavailableError';
  /** The driver's error code (`ECONNREFUSED`, `28P01`, `ER_ACCESS_DENIED_ERROR`, `SQLITE_BUSY`…). */
  readonly code: string;
  constructor(reason: FailureReason, code: string, message: string, options?: ErrorOptions) {
    super(message, { reason, cause: options?.cause });
    this.code = code;
  }
}

/** The tables this version needs are missing or older than the code: `alarmbox migrate` has not run. */
export class MigrationsPendingError extends AlarmboxError {
  override readonly name: string = 'MigrationsPendingError';
  constructor(targetLabel: string, detail: string, options?: ErrorOptions) {
    super(
      `データベースのテーブルがまだ作成されていません (${targetLabel}: ${detail})。先に alarmbox migrate を実行してください (アプリからは alarmbox.migrate())。別のデータベースを使うつもりなら設定元を確認してください (.env を読むのは CLI だけです: README「環境変数」)。`,
      { reason: 'configuration', cause: options?.cause },
    );
  }
}

/** A migration itself failed for a reason we cannot name more precisely (the driver's code is kept). */
export class MigrationFailedError extends AlarmboxError {
  override readonly name: string = 'MigrationFailedError';
  constructor(reason: FailureReason, message: string, options?: ErrorOptions) {
    super(message, { reason, cause: options?.cause });
  }
}

/** A time value read from or written to a time column is not a valid instant: a bug or a corrupted row. */
export class DatabaseTimeValueError extends AlarmboxError {
  override readonly name: string = 'DatabaseTimeValueError';
  constructor(message: string) {
    super(message, { reason: 'unexpected' });
  }
}

/** The driver package of the database in `DATABASE_URL` is not installed (mysql2 and pg are optional). */
export class DatabaseDriverMissingError extends AlarmboxError {
  override readonly name: string = 'DatabaseDriverMissingError';
  /** The npm package to install. */
  readonly driverPackage: string;
  constructor(driverPackage: string, options?: ErrorOptions) {
    super(
      `データベースのドライバ ${driverPackage} がインストールされていません。アプリのディレクトリで npm install ${driverPackage} を実行してください (DATABASE_URL の種類に合うドライバが必要です)。`,
      { reason: 'configuration', cause: options?.cause },
    );
    this.driverPackage = driverPackage;
  }
}
