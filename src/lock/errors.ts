import { AlarmboxError } from '../errors.ts';

/**
 * Another process held the lock for longer than we were willing to wait. Retrying later helps; nothing
 * about the stored token is wrong, so the message never suggests re-authorizing.
 */
export class LockWaitTimeoutError extends AlarmboxError {
  override readonly name: string = 'LockWaitTimeoutError';
  readonly lockName: string;
  readonly waitMs: number;
  /** `purpose`: what the holder does (`トークンを更新中`), when the lock's owner said. */
  constructor(lockName: string, waitMs: number, purpose?: string) {
    const seconds = formatSeconds(waitMs);
    const who =
      purpose === undefined ? '他のプロセスがロックを保持しているため' : `他のプロセスが${purpose}のため`;
    super(
      `${who}、ロック "${lockName}" を ${seconds} 秒待っても取得できませんでした。しばらくしてから再実行してください。`,
      { reason: 'lock_timeout' },
    );
    this.lockName = lockName;
    this.waitMs = waitMs;
  }
}

/** 30000 → "30", 1500 → "1.5", 250 → "0.25". */
function formatSeconds(ms: number): string {
  return String(Math.round(ms / 10) / 100);
}
