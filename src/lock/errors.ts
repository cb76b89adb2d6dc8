import type { FailureReason, ReasonedError } from '../failure-reason.ts';
import { LOCK_NAME_TOKEN_REFRESH } from './names.ts';

/**
 * Another process held the lock for longer than we were willing to wait. Retrying later helps; nothing
 * about the stored token is wrong, so the message never suggests re-authorizing.
 */
export class LockWaitTimeoutError extends Error implements ReasonedError {
  override readonly name = 'LockWaitTimeoutError';
  readonly reason: FailureReason = 'lock_timeout';
  readonly lockName: string;
  readonly waitMs: number;
  constructor(lockName: string, waitMs: number) {
    const seconds = formatSeconds(waitMs);
    const who =
      lockName === LOCK_NAME_TOKEN_REFRESH
        ? '他のプロセスがトークンを更新中のため'
        : '他のプロセスがロックを保持しているため';
    super(
      `${who}、ロック "${lockName}" を ${seconds} 秒待っても取得できませんでした。しばらくしてから再実行してください。`,
    );
    this.lockName = lockName;
    this.waitMs = waitMs;
  }
}

/** 30000 → "30", 1500 → "1.5", 250 → "0.25". */
function formatSeconds(ms: number): string {
  return String(Math.round(ms / 10) / 100);
}
