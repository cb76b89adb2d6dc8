// How the console names a FailureReason and a refresh outcome: the words of FAILURE_REASONS, the
// same table the CLI's exit codes come from.
import { FAILURE_REASONS, type FailureReason, isFailureReason } from '../../failure-reason.ts';

/** `再認可が必要 (reauthorization_required、CLI の終了コード 4)` */
export function describeReason(reason: FailureReason): string {
  const { label, exitCode } = FAILURE_REASONS[reason];
  return `${label} (${reason}、CLI の終了コード ${exitCode})`;
}

/** A refresh-history outcome in words: `成功`, `更新不要`, a revocation, or the failure's label. */
export function outcomeLabel(outcome: string): string {
  if (outcome === 'ok') return '成功';
  if (outcome === 'skipped') return '更新不要';
  if (outcome === 'revoked') return '連携を解除';
  if (outcome === 'revoked_locally') return '連携を解除 (ローカルのみ)';
  return isFailureReason(outcome) ? FAILURE_REASONS[outcome].label : outcome;
}
