// The guide's AlarmboxToken model: one row (id = 1) of `hansha_alarmbox_tokens`, tokens encrypted at rest.
import type { CompiledQuery } from 'kysely';
import { type KeyRing, openField, sealField } from '../crypto/index.ts';
import type { DatabaseHandle } from '../db/connection.ts';
import { assertDatabaseExists } from '../db/dialects/index.ts';
import { namedDatabaseError, toDatabaseError } from '../db/driver-errors.ts';
import { DatabaseTimeValueError } from '../db/errors.ts';
import { assertMigrated } from '../db/migrate.ts';
import { TEXT_COLUMN_SIZES, TOKENS_TABLE } from '../db/schema.ts';
import { describeDatabase } from '../db/source.ts';
import { fromDbTime, toDbTime } from '../db/time.ts';
import { describeTarget } from '../db/url.ts';
import { errorCode } from '../error-code.ts';
import { AlarmboxError } from '../errors.ts';
import type { FailureReason } from '../failure-reason.ts';
import { clipText } from '../text/clip.ts';
import { redact, scrub } from '../text/redact.ts';
import { terminalSafe } from '../text/terminal-safe.ts';
import { MAX_EXPIRES_IN_SECONDS } from './token-response.ts';
import { bumpedVersion, READABLE_VERSION_SQL, readableVersion, toVersion } from './token-version.ts';

/** 常に 1 レコードのみで運用 */
const ROW_ID = 1;
/**
 * The envelope of the largest token a response within the body limit (1 MiB) can carry. The columns are
 * unbounded text since migration 0004 (Doorkeeper's own token columns are unbounded on PostgreSQL).
 */
export const TOKEN_COLUMN_SIZE = 2 * 1024 * 1024;

/**
 * A text for a column that is not a token: no control character (PostgreSQL refuses NUL, a terminal obeys
 * ESC), no lone surrogate, at most the column's size (MariaDB and MySQL in strict mode refuse a longer one).
 * What AlarmBox issued is saved whatever else its answer held: an auxiliary field never fails the write.
 */
/**
 * The key ring, given the key id of the envelope about to be opened: a local key file must not be generated
 * then (the row needs the key it was sealed with, not a new one: see src/config/key-source.ts).
 */
export type TokenKeyRing = (readingKeyId?: string) => KeyRing;

/** `v1.<keyId>.…`: the key id of an envelope (undefined when malformed; openField names that). */
function keyIdOf(envelope: string): string | undefined {
  return envelope.split('.')[1];
}

function fitColumn(text: string, size: number): string {
  return clipText(terminalSafe(text), size);
}

/** Rows written before the texts were made safe, or edited by hand, are made safe when read. */
function safeRead<T extends string | null>(text: T): T {
  return (text === null ? null : terminalSafe(text)) as T;
}

/** What the last refresh attempt ended with: `ok` or a {@link FailureReason}. */
export type RefreshOutcome = 'ok' | FailureReason;

/**
 * A snapshot of row 1. Tokens stay encrypted until asked for, so reading the row for `status` never
 * needs the key, and a decrypted token never sits in a field.
 */
export class AlarmboxToken {
  readonly #ring: TokenKeyRing;
  readonly #accessToken: string;
  readonly #refreshToken: string;
  /**
   * Compare-and-set counter: bumped by every write of a token pair. 0 = no row yet; -1 = the stored value is
   * not a safe non-negative integer (corrupted): reading the tokens still works, a refresh does not.
   */
  readonly version: number;
  readonly expiredAt: Date | null;
  /** When the token pair was last written. */
  readonly updatedAt: Date | null;
  readonly scope: string | null;
  readonly lastRefreshAt: Date | null;
  readonly lastRefreshOutcome: RefreshOutcome | null;
  readonly lastError: string | null;

  constructor(ring: TokenKeyRing, row: TokenRowValues) {
    envelopes.set(this, { accessToken: row.accessToken, refreshToken: row.refreshToken });
    this.#ring = ring;
    this.#accessToken = row.accessToken;
    this.#refreshToken = row.refreshToken;
    this.version = row.version;
    this.expiredAt = row.expiredAt;
    this.updatedAt = row.updatedAt;
    this.scope = row.scope;
    this.lastRefreshAt = row.lastRefreshAt;
    this.lastRefreshOutcome = row.lastRefreshOutcome;
    this.lastError = row.lastError;
  }

  /** トークンが登録済みか (the guide: `token.access_token and token.refresh_token`) */
  get isRegistered(): boolean {
    return this.#accessToken !== '' && this.#refreshToken !== '';
  }

  /** 復号した access_token を取得 */
  getDecryptedAccessToken(): string {
    return this.#accessToken === ''
      ? ''
      : openField(this.#ring(keyIdOf(this.#accessToken)), this.#accessToken, location('access_token'));
  }

  /** 復号した refresh_token を取得 */
  getDecryptedRefreshToken(): string {
    return this.#refreshToken === ''
      ? ''
      : openField(this.#ring(keyIdOf(this.#refreshToken)), this.#refreshToken, location('refresh_token'));
  }
}

interface TokenRowValues {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly version: number;
  readonly expiredAt: Date | null;
  readonly updatedAt: Date | null;
  readonly scope: string | null;
  readonly lastRefreshAt: Date | null;
  readonly lastRefreshOutcome: RefreshOutcome | null;
  readonly lastError: string | null;
}

/** A plaintext token pair about to be stored. */
export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiredAt: Date;
  readonly scope?: string | undefined;
  /** What was odd in the answer that issued the pair: kept in `last_error` with outcome `ok`. */
  readonly warning?: string | undefined;
}

const EMPTY: TokenRowValues = {
  accessToken: '',
  refreshToken: '',
  version: 0,
  expiredAt: null,
  updatedAt: null,
  scope: null,
  lastRefreshAt: null,
  lastRefreshOutcome: null,
  lastError: null,
};

/**
 * The envelopes each snapshot was read with, for the store's compare-and-set on the pair itself
 * ({@link AlarmboxTokenStore.saveOver}); kept out of the public class.
 */
const envelopes = new WeakMap<AlarmboxToken, { accessToken: string; refreshToken: string }>();

function location(column: 'access_token' | 'refresh_token') {
  return { table: TOKENS_TABLE, column, rowId: ROW_ID };
}

/**
 * A time column of row 1 that is not an instant (a hand edit, MariaDB's zero date, PostgreSQL's `infinity`)
 * reads as unknown instead of failing the read: the times are bookkeeping, the pair itself is intact. An
 * unknown expiry counts as expired (expiry.ts), so the next read refreshes and stores a good one, and a forced
 * refresh never needs it (docs/design.md「壊れた日時の列」).
 */
function storedTime(value: unknown): Date | null {
  try {
    return fromDbTime(value);
  } catch (error) {
    if (error instanceof DatabaseTimeValueError) return null;
    throw error;
  }
}

/** Slack for clocks that disagree (the app's and AlarmBox's) on top of the longest lifetime believed. */
const EXPIRY_SLACK_MS = 86_400_000;

/**
 * An expiry that no pair this package stored can have (beyond now + the longest lifetime it believes,
 * token-response.ts) is as unknown as an unreadable one: trusting it would never refresh on read again.
 */
function plausibleExpiry(expiredAt: Date | null, now: Date = new Date()): Date | null {
  if (expiredAt === null) return null;
  const latest = now.getTime() + MAX_EXPIRES_IN_SECONDS * 1000 + EXPIRY_SLACK_MS;
  return expiredAt.getTime() > latest ? null : expiredAt;
}

/** Row 1's columns as a read of it returns them (times as the driver gives them: fromDbTime reads them). */
interface StoredRow {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly expired_at: unknown;
  readonly updated_at: unknown;
  readonly version: unknown;
  readonly scope: string | null;
  readonly last_refresh_at: unknown;
  readonly last_refresh_outcome: string | null;
  readonly last_error: string | null;
}

/** The select of row 1 written out, for a driver read (SQLite): the same columns as the builder's. */
const SELECT_ROW_SQL = `select access_token, refresh_token, expired_at, updated_at, ${READABLE_VERSION_SQL.text} as version, scope, last_refresh_at, last_refresh_outcome, last_error from ${TOKENS_TABLE} where id = ?`;
const SELECT_ROW_PARAMETERS = [...READABLE_VERSION_SQL.parameters, ROW_ID];

/** Reads and writes row 1. Every write of a token pair is a compare-and-set on `version`. */
export class AlarmboxTokenStore {
  readonly #handle: DatabaseHandle;
  readonly #ring: TokenKeyRing;
  /** Compiled once: reading row 1 is the hot path of every `getValidAccessToken()`. */
  #selectRow: CompiledQuery<StoredRow> | undefined;

  constructor(handle: DatabaseHandle, ring: TokenKeyRing) {
    this.#handle = handle;
    this.#ring = ring;
  }

  /** Row 1 as stored: from the driver where it reads without the query builder (SQLite), else through Kysely. */
  async #readRow(): Promise<StoredRow | undefined> {
    const { readOne } = this.#handle;
    if (readOne !== undefined) {
      return this.#run(async () => readOne(SELECT_ROW_SQL, SELECT_ROW_PARAMETERS) as StoredRow | undefined);
    }
    // After the first read Kysely is loaded: no await (a few microtask turns on every call of the hot path).
    const db = this.#selectRow === undefined ? await this.#handle.open() : this.#handle.db;
    this.#selectRow ??= db
      .selectFrom(TOKENS_TABLE)
      .select([
        'access_token',
        'refresh_token',
        'expired_at',
        'updated_at',
        readableVersion().as('version'),
        'scope',
        'last_refresh_at',
        'last_refresh_outcome',
        'last_error',
      ])
      .where('id', '=', ROW_ID)
      .compile();
    const query = this.#selectRow;
    const { rows } = await this.#run(() => db.executeQuery(query));
    return rows[0];
  }

  /** 唯一の 1 レコードを取得 (no row yet: an empty, unregistered snapshot with version 0). */
  async getInstance(): Promise<AlarmboxToken> {
    const row = await this.#readRow();
    if (row === undefined) return new AlarmboxToken(this.#ring, EMPTY);
    return new AlarmboxToken(this.#ring, {
      accessToken: row.access_token,
      refreshToken: row.refresh_token,
      version: toVersion(row.version),
      expiredAt: plausibleExpiry(storedTime(row.expired_at)),
      updatedAt: storedTime(row.updated_at),
      scope: safeRead(row.scope),
      lastRefreshAt: storedTime(row.last_refresh_at),
      lastRefreshOutcome: safeRead(row.last_refresh_outcome) as RefreshOutcome | null,
      lastError: safeRead(row.last_error),
    });
  }

  /**
   * Stores a pair unconditionally (a new authorization supersedes whatever was there) and returns the
   * new snapshot.
   * @throws TokenSaveError when the row could not be written (never a silent success), or the database's
   *   typed errors (unreachable, migrations pending)
   */
  async saveInitial(pair: TokenPair, now: Date = new Date()): Promise<AlarmboxToken> {
    const values = this.#pairValues(pair, now);
    const update = async () => {
      const updated = await this.#run(async () =>
        (await this.#handle.open())
          .updateTable(TOKENS_TABLE)
          .set({ ...values, version: bumpedVersion() })
          .where('id', '=', ROW_ID)
          .executeTakeFirst(),
      );
      return Number(updated.numUpdatedRows) > 0;
    };
    if (await update()) return this.getInstance();
    try {
      await (await this.#handle.open())
        .insertInto(TOKENS_TABLE)
        .values({ id: ROW_ID, ...values, version: 1 })
        .execute();
      return this.getInstance();
    } catch (error) {
      // Only "another process inserted row 1 between our UPDATE and INSERT" is answered by updating it.
      if (!this.#handle.adapter.isDuplicateKey(error)) throw this.#saveFailure(error);
    }
    if (await update()) return this.getInstance();
    throw new TokenSaveError(
      `トークンを保存できませんでした: ${this.#where()} の行 ${ROW_ID} は別のプロセスが作成した直後に消え、書き込み先がありませんでした。` +
        'トークン表を同時に削除する処理 (手作業の DELETE など) がないか確認してください。',
      'ROW_VANISHED',
    );
  }

  /**
   * Proves, storing nothing, that {@link saveInitial} can store a pair now: the key ring loads and encrypts,
   * the database answers, every migration is applied, and row 1 takes the very write `saveInitial` would make
   * (an UPDATE of row 1, or its INSERT when there is none yet) inside a transaction that is then rolled back.
   * For the code exchange: an authorization code is usable once, so whatever would refuse the save must be
   * found before the code is sent.
   * @throws the error the save would have met: ConfigError / KeyRingFormatError (key ring),
   *   DatabaseUnavailableError, MigrationsPendingError, TokenSaveError
   */
  async checkInitialSave(now: Date = new Date()): Promise<void> {
    // Sealing with the primary key loads the ring: a missing key or an unreadable key file fails here.
    const probe = 'alarmbox-auth-preflight';
    const values = this.#pairValues({ accessToken: probe, refreshToken: probe, expiredAt: now }, now);
    // The checks `withAlarmbox` makes for every CLI command, for the library and the console too.
    assertDatabaseExists(this.#handle.target);
    await this.#handle.ping();
    await assertMigrated(this.#handle);
    // Read outside the transaction: an UPDATE that finds no row and then an INSERT in one transaction would
    // take a gap lock on MySQL, and two such probes at once deadlock.
    const exists = (await this.#readRow()) !== undefined;
    const rolledBack = new RolledBack();
    try {
      await (await this.#handle.open()).transaction().execute(async (trx) => {
        if (exists) {
          await trx
            .updateTable(TOKENS_TABLE)
            .set({ ...values, version: bumpedVersion() })
            .where('id', '=', ROW_ID)
            .execute();
        } else {
          await trx
            .insertInto(TOKENS_TABLE)
            .values({ id: ROW_ID, ...values, version: 1 })
            .execute();
        }
        throw rolledBack;
      });
    } catch (error) {
      if (error === rolledBack) return;
      // Another process created row 1 meanwhile: saveInitial then updates it, as it always does.
      if (!exists && this.#handle.adapter.isDuplicateKey(error)) return;
      throw this.#saveFailure(error, exists ? '更新' : '追加');
    }
  }

  /** An INSERT of row 1 that failed for another reason than a duplicate key: the database's typed error, or ours. */
  #saveFailure(error: unknown, action: '追加' | '更新' = '追加'): AlarmboxError {
    const mapped = namedDatabaseError(error, this.#handle.target);
    if (mapped !== undefined) return mapped;
    const code = errorCode(error) ?? (error instanceof Error ? error.name : typeof error);
    // The driver's message is not repeated: it may quote the values it refused.
    return new TokenSaveError(
      `トークンを保存できませんでした: ${this.#where()} ${action === '追加' ? 'への' : 'の'}行 ${ROW_ID} の${action}をデータベースが拒否しました (${code})。` +
        'テーブルの定義 (alarmbox migrate 以外で変更した列・制約・トリガー) とデータベースのログを確認してください。',
      code,
      { cause: error },
    );
  }

  /** The database and where its setting came from, for the not-registered message. */
  describeDatabase(): string {
    return describeDatabase(this.#handle.target);
  }

  /** Row 1 as a person finds it: the database, the table and the row, for messages. */
  describeRow(): string {
    return `${this.#where()} の行 ${ROW_ID}`;
  }

  #where(): string {
    return `${describeTarget(this.#handle.target)} のテーブル ${TOKENS_TABLE}`;
  }

  /**
   * Stores a refreshed pair only if the row is still at `expectedVersion`: a holder whose lease expired
   * while it waited on AlarmBox cannot overwrite a newer pair. Returns false when the row had moved on.
   */
  async saveRefreshed(pair: TokenPair, expectedVersion: number, now: Date = new Date()): Promise<boolean> {
    const values = this.#pairValues(pair, now);
    const result = await this.#run(async () =>
      (await this.#handle.open())
        .updateTable(TOKENS_TABLE)
        .set({ ...values, version: expectedVersion + 1 })
        .where('id', '=', ROW_ID)
        .where('version', '=', expectedVersion)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Stores a refreshed pair over exactly the pair `seen` was read with (its envelopes, which every write
   * renews), setting `version`: the compare-and-set of last resort when the `version` one failed without a
   * peer having saved (the counter was corrupted or changed under us), so that what AlarmBox issued is kept.
   * False when the row holds another pair by now.
   */
  async saveOver(
    pair: TokenPair,
    seen: AlarmboxToken,
    version: number,
    now: Date = new Date(),
  ): Promise<boolean> {
    const was = envelopes.get(seen);
    if (was === undefined) return false;
    const values = this.#pairValues(pair, now);
    const result = await this.#run(async () =>
      (await this.#handle.open())
        .updateTable(TOKENS_TABLE)
        .set({ ...values, version })
        .where('id', '=', ROW_ID)
        .where('access_token', '=', was.accessToken)
        .where('refresh_token', '=', was.refreshToken)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Deletes row 1 only if it still holds exactly the pair `seen` was read with (its envelopes, which every write
   * renews): the end of a revocation (revoke.ts), so that a pair saved meanwhile by `save-token`, which takes no
   * lease, is never deleted unseen. False when the row holds another pair by now, or is gone.
   */
  async deleteIfUnchanged(seen: AlarmboxToken): Promise<boolean> {
    const was = envelopes.get(seen);
    if (was === undefined || was.accessToken === '') return false;
    const result = await this.#run(async () =>
      (await this.#handle.open())
        .deleteFrom(TOKENS_TABLE)
        .where('id', '=', ROW_ID)
        .where('access_token', '=', was.accessToken)
        .where('refresh_token', '=', was.refreshToken)
        .executeTakeFirst(),
    );
    return Number(result.numDeletedRows) === 1;
  }

  /** Records a failed attempt (no secrets: the message is redacted) without touching the pair or its version. */
  async recordFailure(outcome: FailureReason, message: string, now: Date = new Date()): Promise<void> {
    const adapter = this.#handle.adapter;
    await this.#run(async () =>
      (await this.#handle.open())
        .updateTable(TOKENS_TABLE)
        .set({
          last_refresh_at: toDbTime(adapter, now),
          // A reason is this package's word, but one taken from a foreign error may be any text.
          last_refresh_outcome: fitColumn(outcome, TEXT_COLUMN_SIZES.lastRefreshOutcome),
          last_error: fitColumn(redact(message), TEXT_COLUMN_SIZES.lastError),
        })
        .where('id', '=', ROW_ID)
        .execute(),
    );
  }

  /** 強制的に期限切れにする (the guide's step 8-4). Returns false when nothing is registered. */
  async markExpired(now: Date = new Date()): Promise<boolean> {
    const result = await this.#run(async () =>
      (await this.#handle.open())
        .updateTable(TOKENS_TABLE)
        .set({ expired_at: toDbTime(this.#handle.adapter, new Date(now.getTime() - 3_600_000)) })
        .where('id', '=', ROW_ID)
        .where('access_token', '!=', '')
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  #pairValues(pair: TokenPair, now: Date) {
    const ring = this.#ring();
    const adapter = this.#handle.adapter;
    return {
      access_token: sealField(ring, pair.accessToken, location('access_token'), TOKEN_COLUMN_SIZE),
      refresh_token: sealField(ring, pair.refreshToken, location('refresh_token'), TOKEN_COLUMN_SIZE),
      expired_at: toDbTime(adapter, pair.expiredAt),
      updated_at: toDbTime(adapter, now),
      // Normalised and reported by token-response.ts for AlarmBox's answers; cut here whatever the caller gave.
      scope: pair.scope === undefined ? null : fitColumn(pair.scope, TEXT_COLUMN_SIZES.scope),
      last_refresh_at: toDbTime(adapter, now),
      last_refresh_outcome: 'ok',
      last_error:
        pair.warning === undefined ? null : fitColumn(scrub(pair.warning), TEXT_COLUMN_SIZES.lastError),
    };
  }

  async #run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw toDatabaseError(error, this.#handle.target);
    }
  }
}

/** Ends the preflight's transaction with a rollback: nothing it wrote is kept. */
class RolledBack extends Error {
  override readonly name = 'RolledBack';
}

/**
 * Row 1 could not be written, for a reason that retrying the same call does not fix by itself (a constraint
 * or trigger of the table refused it, the row vanished under us). `code`: the driver's error code, or ours.
 */
export class TokenSaveError extends AlarmboxError {
  override readonly name: string = 'TokenSaveError';
  readonly code: string;
  constructor(message: string, code: string, options: { readonly cause?: unknown } = {}) {
    super(message, { reason: 'unexpected', cause: options.cause });
    this.code = code;
  }
}
