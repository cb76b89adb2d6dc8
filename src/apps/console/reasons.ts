// How the console names a FailureReason and what a person should do about it: the same reasons the CLI
// turns into exit codes, said in words.
import { exitCodeFor } from '../../exit-codes.ts';
import type { FailureReason } from '../../failure-reason.ts';

const LABELS: Record<FailureReason, string> = {
  configuration: '設定の誤り',
  usage: '入力の誤り',
  client_configuration: 'クライアント設定の誤り',
  not_registered: 'トークン未登録',
  reauthorization_required: '再認可が必要',
  stored_data_invalid: '保存データを復号できない',
  temporary: '一時的な失敗',
  lock_timeout: 'ロック待ちのタイムアウト',
  unexpected: '予期しないエラー',
};

const ADVICE: Record<FailureReason, string> = {
  configuration: '環境変数 (ALARMBOX_* / DATABASE_URL) を確認してから、コンソールを起動し直してください。',
  usage: '入力した内容を確認して、もう一度操作してください。',
  client_configuration:
    'ALARMBOX_CLIENT_ID / ALARMBOX_CLIENT_SECRET が AlarmBox のアプリ設定と一致しているか確認してください。',
  not_registered: '「AlarmBox と連携」から初回の連携を行ってください。',
  reauthorization_required: 'トークンは失効しています。「AlarmBox と連携」からもう一度連携してください。',
  stored_data_invalid: 'ALARMBOX_ENCRYPTION_KEYS が保存時と同じキーを含んでいるか確認してください。',
  temporary: 'しばらくしてから、もう一度お試しください。',
  lock_timeout: '他のプロセスが更新中です。しばらくしてから、もう一度お試しください。',
  unexpected:
    'コンソールを起動したターミナルの出力を確認してください (ALARMBOX_DEBUG=1 で詳細を表示します)。',
};

const KNOWN = new Set<string>(Object.keys(LABELS));

export function isFailureReason(value: string): value is FailureReason {
  return KNOWN.has(value);
}

export function reasonLabel(reason: FailureReason): string {
  return LABELS[reason];
}

export function reasonAdvice(reason: FailureReason): string {
  return ADVICE[reason];
}

/** `再認可が必要 (reauthorization_required、CLI の終了コード 4)` */
export function describeReason(reason: FailureReason): string {
  return `${LABELS[reason]} (${reason}、CLI の終了コード ${exitCodeFor(reason)})`;
}

/** A refresh-history outcome in words: `成功`, `更新不要` or the failure's label. */
export function outcomeLabel(outcome: string): string {
  if (outcome === 'ok') return '成功';
  if (outcome === 'skipped') return '更新不要';
  return isFailureReason(outcome) ? LABELS[outcome] : outcome;
}
