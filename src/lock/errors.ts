import { AlarmboxError } from '../errors.ts';

/**
 * Another process held the lock for longer than we were willing to wait. Retrying later helps; nothing
 * about the stored token is wrong, so the message never suggests re-authorizing.
 */
export class LockWaitTimeoutError extends AlarmboxError {
  override readonly name: string = 'LockWaitTimeoutError';
  readonly lockName: string;
  readonly waitMs: number;
  /** Who held the lease when the wait ended (owner id `host:pid:…`, database-clock times), when known. */
  readonly holder: LockHolder | undefined;
  /**
   * `purpose`: what the holder does (`トークンを更新中`), when the lock's owner said. `holder`: the lease
   * that was in the way, named in the message so that a person knows which process to look at.
   */
  constructor(lockName: string, waitMs: number, purpose?: string, holder?: LockHolder) {
    const seconds = formatSeconds(waitMs);
    const who =
      purpose === undefined ? '他のプロセスがロックを保持しているため' : `他のプロセスが${purpose}のため`;
    const held =
      holder === undefined
        ? ''
        : ` (保持者 ${holder.owner}、${isoOfDbTime(holder.acquiredAtMs)} から ${isoOfDbTime(holder.expiresAtMs)} まで)`;
    super(
      `${who}、ロック "${lockName}" を ${seconds} 秒待っても取得できませんでした${held}。しばらくしてから再実行してください。`,
      { reason: 'lock_timeout' },
    );
    this.lockName = lockName;
    this.waitMs = waitMs;
    this.holder = holder;
  }
}

/** A lease as stored: who holds it and, on the database's clock (epoch ms), since and until when. */
export interface LockHolder {
  readonly owner: string;
  readonly acquiredAtMs: number;
  readonly expiresAtMs: number;
}

/** An epoch-ms time of the database clock as ISO 8601 UTC (the raw number when no date holds it). */
export function isoOfDbTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/** 30000 → "30", 1500 → "1.5", 250 → "0.25". */
function formatSeconds(ms: number): string {
  return String(Math.round(ms / 10) / 100);
}
