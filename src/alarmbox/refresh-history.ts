// Refresh history: one row per refresh attempt (online, batch, manual) in `alarmbox_refresh_history`, kept to
// the newest N rows. Written through TokenService's `onAttempt`; read by `status` and monitoring. No token,
// code or secret is ever stored: only the time, the trigger, the outcome, the duration and a redacted message.
import type { DatabaseHandle } from '../db/connection.ts';
import { toDatabaseError } from '../db/connection.ts';
import { REFRESH_HISTORY_TABLE, TEXT_COLUMN_SIZES } from '../db/schema.ts';
import { fromDbTime, toDbTime } from '../db/time.ts';
import { AlarmboxError } from '../errors.ts';
import { reportSecondaryFailure } from '../secondary-failure.ts';
import { clipText } from '../text/clip.ts';
import { redact } from '../text/redact.ts';
import { terminalSafe } from '../text/terminal-safe.ts';
import type { RefreshAttempt, RefreshTrigger } from './token-service.ts';

/** How many attempts are kept: about three months of a 12-hourly batch plus the online refreshes. */
const DEFAULT_HISTORY_SIZE = 200;

/**
 * A revocation (revoke.ts), kept in the same table with the trigger `manual`: `revoked` (revoked at AlarmBox,
 * then row 1 deleted) or `revoked_locally` (row 1 deleted only, `--local-only`). No migration: the outcome
 * column is free text of 64 characters.
 */
export type RevocationOutcome = 'revoked' | 'revoked_locally';

/** One row of the history as written: a refresh attempt, or a revocation. */
export interface HistoryRecord extends Omit<RefreshAttempt, 'outcome'> {
  readonly outcome: RefreshAttempt['outcome'] | RevocationOutcome;
}

/** Whether a history outcome is a revocation's: it ends the failure streak of the pair it removed. */
export function isRevocationOutcome(outcome: string): outcome is RevocationOutcome {
  return outcome === 'revoked' || outcome === 'revoked_locally';
}

export interface RefreshHistoryEntry {
  readonly id: number;
  readonly attemptedAt: Date;
  readonly trigger: RefreshTrigger;
  /** `ok` (a new pair was stored), `skipped` (none was needed), a FailureReason or a RevocationOutcome. */
  readonly outcome: string;
  readonly durationMs: number;
  readonly message: string | null;
}

export interface RefreshHistorySummary {
  /** Newest first. */
  readonly recent: readonly RefreshHistoryEntry[];
  /** Failed attempts since the last successful refresh or revocation (skipped attempts neither count nor reset). */
  readonly consecutiveFailures: number;
  readonly lastSuccessAt: Date | null;
  /** The last successful refresh of the scheduled job (`refresh-token`, `worker`). */
  readonly lastBatchSuccessAt: Date | null;
}

export interface RefreshHistoryOptions {
  /** Rows kept (default {@link DEFAULT_HISTORY_SIZE}). */
  readonly size?: number;
}

export class RefreshHistory {
  readonly #handle: DatabaseHandle;
  readonly #size: number;
  readonly #pending = new Set<Promise<void>>();

  constructor(handle: DatabaseHandle, options: RefreshHistoryOptions = {}) {
    const size = options.size ?? DEFAULT_HISTORY_SIZE;
    if (!Number.isSafeInteger(size) || size < 1)
      throw new AlarmboxError('history size must be a positive integer', { reason: 'unexpected' });
    this.#handle = handle;
    this.#size = size;
  }

  /**
   * For TokenService's `onAttempt`: starts the write and returns at once, so that an application reading an
   * expiring token never waits for the history. {@link flush} waits for the writes still under way.
   * A failed write is dropped (the history is a record, not a dependency of the refresh).
   */
  readonly recorder = (attempt: RefreshAttempt): void => {
    // An online caller that found a peer's fresh pair did nothing worth keeping. With many instances at
    // expiry there is one such row per instance and rotation: they would crowd the attempts that matter out
    // of the bounded history, and on SQLite each is one more writer queueing behind the refresh's save.
    if (attempt.outcome === 'skipped' && attempt.trigger === 'online') return;
    // After the callers waiting for this refresh have their token: on SQLite the insert (and its commit)
    // would otherwise run synchronously ahead of them, in the same chain of promises.
    const write = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.record(attempt))
      .catch((error: unknown) => reportSecondaryFailure('更新履歴の記録', error));
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
  };

  /** Waits for the writes started by {@link recorder}. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Inserts one attempt (or revocation), then deletes what falls beyond the newest `size` rows. */
  async record(attempt: HistoryRecord): Promise<void> {
    const handle = this.#handle;
    const values = {
      attempted_at: toDbTime(handle.adapter, attempt.startedAt),
      refresh_trigger: attempt.trigger,
      // Texts fit their columns and hold no control character (a reason taken from a foreign error, a message
      // quoting AlarmBox): a row that cannot be written loses the attempt from the record.
      outcome: clipText(terminalSafe(attempt.outcome), TEXT_COLUMN_SIZES.historyOutcome),
      duration_ms: Math.max(0, Math.min(2_147_483_647, Math.round(attempt.durationMs))),
      message:
        attempt.message === undefined
          ? null
          : clipText(terminalSafe(redact(attempt.message)), TEXT_COLUMN_SIZES.historyMessage),
    };
    await this.#run(async () => {
      const id = await handle.adapter.insertHistory(await handle.open(), values);
      // Ids only grow, so "older than the newest N" is "id <= newest - N" (gaps only make us keep fewer).
      if (id > this.#size) {
        await (await handle.open())
          .deleteFrom(REFRESH_HISTORY_TABLE)
          .where('id', '<=', id - this.#size)
          .execute();
      }
    });
  }

  /** The newest `limit` attempts, newest first. */
  async recent(limit: number): Promise<RefreshHistoryEntry[]> {
    const rows = await this.#run(async () =>
      (await this.#handle.open())
        .selectFrom(REFRESH_HISTORY_TABLE)
        .selectAll()
        .orderBy('id', 'desc')
        .limit(Math.max(0, Math.floor(limit)))
        .execute(),
    );
    return rows.map((row) => ({
      id: Number(row.id),
      attemptedAt: fromDbTime(row.attempted_at) ?? new Date(0),
      trigger: row.refresh_trigger as RefreshTrigger,
      // Rows written before the texts were made safe (or by hand) are made safe when read (status, doctor).
      outcome: terminalSafe(row.outcome),
      durationMs: Number(row.duration_ms),
      message: row.message === null ? null : terminalSafe(row.message),
    }));
  }

  /** What `status` and monitoring need: the newest `limit` attempts and the failure streak. */
  async summary(limit: number): Promise<RefreshHistorySummary> {
    // The streak and the last successes are read from the whole kept history, not just the shown part.
    const all = await this.recent(this.#size);
    let consecutiveFailures = 0;
    let lastSuccessAt: Date | null = null;
    let lastBatchSuccessAt: Date | null = null;
    let streakOpen = true;
    for (const entry of all) {
      if (entry.outcome === 'ok') {
        streakOpen = false;
        lastSuccessAt ??= entry.attemptedAt;
        if (entry.trigger === 'batch') {
          lastBatchSuccessAt = entry.attemptedAt;
          break;
        }
      } else if (isRevocationOutcome(entry.outcome)) {
        // The failures before a revocation were the removed pair's: a new registration starts a clean streak.
        streakOpen = false;
      } else if (entry.outcome !== 'skipped' && streakOpen) {
        consecutiveFailures++;
      }
    }
    return {
      recent: all.slice(0, Math.max(0, limit)),
      consecutiveFailures,
      lastSuccessAt,
      lastBatchSuccessAt,
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
