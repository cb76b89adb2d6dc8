// The one answer of an instance after `close()`: no new work starts, and nothing reaches the closed pool.
import { AlarmboxError } from '../errors.ts';

/**
 * `close()` has begun: the call started nothing (no query, no request to AlarmBox). `temporary`, since a new
 * instance (the next process, after a restart) runs it normally.
 */
export function shuttingDown(): AlarmboxError {
  return new AlarmboxError(
    'alarmbox は終了処理中です (close() の後に呼ばれました)。データベースにも AlarmBox にも何も送っていません。' +
      '終了処理では受け付けを止めて処理中のリクエストを終えてから close() を呼んでください ' +
      '(docs/integration.md「終了時に応答を失わない」)。',
    { reason: 'temporary' },
  );
}
