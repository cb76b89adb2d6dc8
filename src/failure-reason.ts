/**
 * Why an operation failed, in a form that schedulers, monitoring and the CLI's exit code can act on.
 * Every error of this package ({@link AlarmboxError}) carries one; the message carries the Japanese explanation.
 */
export type FailureReason =
  /** Local setup is wrong: an environment variable, the encryption key ring, pending migrations, database TLS. */
  | 'configuration'
  /** The command line itself is wrong (a blank `--code`, an unknown option). */
  | 'usage'
  /** AlarmBox rejected the client credentials (`invalid_client`): client_id / client_secret are wrong. */
  | 'client_configuration'
  /** No token pair is stored yet: run `save-token`. */
  | 'not_registered'
  /** The token chain is dead (`invalid_grant` and no peer refreshed): a person must re-authorize. */
  | 'reauthorization_required'
  /** The stored row cannot be used (unknown key id, wrong key, tampered value, a corrupted `version`). */
  | 'stored_data_invalid'
  /** Network, timeout, 5xx, 429, a non-JSON answer, the database out of reach, shutting down: retry later. */
  | 'temporary'
  /** Another process held the refresh lock for longer than we were willing to wait: retry later. */
  | 'lock_timeout'
  /** A bug or a state this package does not know how to name. */
  | 'unexpected';

/** What a scheduler or a person should do about a failure: the job log's `action` field. */
export type FailureAction = 'retry_later' | 'reauthorize' | 'register' | 'fix_configuration' | 'investigate';

/** Everything that follows from a {@link FailureReason}. */
export interface FailureReasonInfo {
  /** The CLI's exit code (README「終了コード」). */
  readonly exitCode: 1 | 2 | 3 | 4 | 5;
  /** Retrying later can succeed without a person doing anything (the job runner retries these). */
  readonly temporary: boolean;
  /** The stored chain is dead: a person must authorize again. */
  readonly reauthorizationRequired: boolean;
  readonly action: FailureAction;
  /** How the console and `status` name it. */
  readonly label: string;
  /** What the console tells a person to do. */
  readonly advice: string;
}

// The one table of the package: exit codes, job actions, retries and the console's words all read it, so a
// reason cannot mean "retry" in one place and "fix the setup" in another.
/** Each {@link FailureReason} and what follows from it. */
export const FAILURE_REASONS: { readonly [R in FailureReason]: FailureReasonInfo } = {
  configuration: {
    exitCode: 2,
    temporary: false,
    reauthorizationRequired: false,
    action: 'fix_configuration',
    label: '設定の誤り',
    advice: '環境変数 (ALARMBOX_* / DATABASE_URL) を確認してから、コンソールを起動し直してください。',
  },
  usage: {
    exitCode: 2,
    temporary: false,
    reauthorizationRequired: false,
    action: 'fix_configuration',
    label: '入力の誤り',
    advice: '入力した内容を確認して、もう一度操作してください。',
  },
  client_configuration: {
    exitCode: 2,
    temporary: false,
    reauthorizationRequired: false,
    action: 'fix_configuration',
    label: 'クライアント設定の誤り',
    advice:
      'ALARMBOX_CLIENT_ID / ALARMBOX_CLIENT_SECRET が AlarmBox のアプリ設定と一致しているか確認してください。',
  },
  not_registered: {
    exitCode: 3,
    temporary: false,
    reauthorizationRequired: false,
    action: 'register',
    label: 'トークン未登録',
    advice: '「AlarmBox と連携」から初回の連携を行ってください。',
  },
  reauthorization_required: {
    exitCode: 4,
    temporary: false,
    reauthorizationRequired: true,
    action: 'reauthorize',
    label: '再認可が必要',
    advice: 'トークンは失効しています。「AlarmBox と連携」からもう一度連携してください。',
  },
  stored_data_invalid: {
    exitCode: 2,
    temporary: false,
    reauthorizationRequired: false,
    action: 'fix_configuration',
    label: '保存データを使えない',
    advice:
      'ALARMBOX_ENCRYPTION_KEYS が保存時と同じキーを含んでいるか確認してください。行 1 が壊れている場合は、もう一度連携してください。',
  },
  temporary: {
    exitCode: 5,
    temporary: true,
    reauthorizationRequired: false,
    action: 'retry_later',
    label: '一時的な失敗',
    advice: 'しばらくしてから、もう一度お試しください。',
  },
  lock_timeout: {
    exitCode: 5,
    temporary: true,
    reauthorizationRequired: false,
    action: 'retry_later',
    label: 'ロック待ちのタイムアウト',
    advice: '他のプロセスが更新中です。しばらくしてから、もう一度お試しください。',
  },
  unexpected: {
    exitCode: 1,
    temporary: false,
    reauthorizationRequired: false,
    action: 'investigate',
    label: '予期しないエラー',
    advice: 'コンソールを起動したターミナルの出力を確認してください (ALARMBOX_DEBUG=1 で詳細を表示します)。',
  },
};

/** True for the names of {@link FAILURE_REASONS} (a stored outcome, a JSON field), false for anything else. */
export function isFailureReason(value: unknown): value is FailureReason {
  return typeof value === 'string' && Object.hasOwn(FAILURE_REASONS, value);
}
