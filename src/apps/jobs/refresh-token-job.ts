// The guide's `refresh_alarmbox_token` (CloudRunJobs, `0 */12 * * *`): spend the refresh token on a schedule
// so that it never goes unused and views rarely pay for a refresh.
import { describeDuration } from './duration.ts';
import type { Job, JobContext, JobResult } from './job.ts';

export const REFRESH_TOKEN_JOB_NAME = 'refresh-token';
/** The guide's schedule: every 12 hours. */
export const REFRESH_TOKEN_SCHEDULE = '0 */12 * * *';

export interface RefreshTokenJobOptions {
  /** Refresh only when the access token is about to expire (`--if-expiring`); default: always (forced). */
  readonly ifExpiring?: boolean | undefined;
  readonly schedule?: string | undefined;
}

export function refreshTokenJob(options: RefreshTokenJobOptions = {}): Job {
  const ifExpiring = options.ifExpiring === true;
  return {
    name: REFRESH_TOKEN_JOB_NAME,
    description: 'AlarmBox トークンを更新します',
    schedule: options.schedule ?? REFRESH_TOKEN_SCHEDULE,

    async alreadyDone(context: JobContext): Promise<JobResult | undefined> {
      if (context.freshWindowMs <= 0) return undefined;
      const token = await context.alarmbox.store.getInstance();
      // Not registered: run() reports it with the guide's message and exit code 3.
      if (!token.isRegistered || token.updatedAt === null) return undefined;
      const updatedMs = token.updatedAt.getTime();
      const ageMs = Date.now() - updatedMs;
      const withinWindow = ageMs >= 0 && ageMs < context.freshWindowMs;
      // The worker knows its tick: a refresh saved at or after the tick's scheduled time belongs to this tick,
      // however late this run got to look (a busy machine, another worker's run ahead of it). Without it, a
      // run delayed past the window would refresh a second time for the same tick.
      const sinceTick = context.scheduledAt !== undefined && updatedMs >= context.scheduledAt.getTime();
      if (!withinWindow && !sinceTick) return undefined;
      return {
        outcome: 'skipped',
        code: 'fresh',
        message: withinWindow
          ? `トークンは ${describeDuration(ageMs)}前に更新済みのため、今回は更新しませんでした (${describeDuration(context.freshWindowMs)}以内の更新は同じ回の実行とみなします)。`
          : `トークンはこの回の予定時刻 (${context.scheduledAt?.toISOString()}) より後に更新済みのため、今回は更新しませんでした。`,
        fields: {
          expiredAt: token.expiredAt?.toISOString() ?? null,
          updatedAt: token.updatedAt.toISOString(),
        },
      };
    },

    async run(context: JobContext): Promise<JobResult> {
      // バッチは強制更新 (期限切れチェックをスキップ)
      const result = await context.alarmbox.tokens.refresh({ force: !ifExpiring, trigger: 'batch' });
      const fields = { expiredAt: result.expiredAt.toISOString() };
      if (result.refreshed) {
        return { outcome: 'ok', code: 'refreshed', message: 'トークンを更新しました', fields };
      }
      return ifExpiring
        ? {
            outcome: 'skipped',
            code: 'still_valid',
            message: 'トークンはまだ有効なため更新しませんでした',
            fields,
          }
        : {
            outcome: 'skipped',
            code: 'peer_refreshed',
            message: 'ほかのプロセスが直前に更新したトークンを確認しました',
            fields,
          };
    },
  };
}
