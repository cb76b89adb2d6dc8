// Some work follows an operation's result: the refresh-history row, handing the lease back. When it fails, the
// result already stands (the new pair is saved; an unreleased lease expires by itself), so the caller keeps its
// result. The failure is still never silent: it becomes a process warning, which Node prints on stderr, an app
// can watch (`process.on('warning')`), and the CLI turns into a non-zero exit code (README「終了コード」).
import { AlarmboxError, messageOf, reasonOf } from './errors.ts';

/** The warning for a failure after an operation's result was safe; `reason` is that of the failure. */
export class AlarmboxSecondaryFailure extends AlarmboxError {
  override readonly name: string = 'AlarmboxSecondaryFailure';
}

/** Emits `error` (what failed after the result was safe) as an {@link AlarmboxSecondaryFailure} warning. */
export function reportSecondaryFailure(what: string, error: unknown): void {
  process.emitWarning(
    new AlarmboxSecondaryFailure(`${what}に失敗しました (結果は保存済みです): ${messageOf(error)}`, {
      reason: reasonOf(error),
      cause: error,
    }),
  );
}
