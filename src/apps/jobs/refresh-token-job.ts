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
    schedule: options.schedule ?? REFRESH_TOKEN_SCHEDULE,

    async run(context: JobContext): Promise<JobResult> {
      const since = savedSince(context);
      // バッチは強制更新 (期限切れチェックをスキップ). The token lease and the `version` compare-and-set keep two
      // runs from rotating twice; `unlessSavedSince`, checked under that lease, keeps two runs of one tick (two
      // workers, a rerun) from refreshing once each.
      const result = await context.alarmbox.tokens.refresh({
        force: !ifExpiring,
        trigger: 'batch',
        unlessSavedSince: since,
      });
      const fields = { expiredAt: result.expiredAt.toISOString() };
      if (result.refreshed) {
        return { outcome: 'ok', code: 'refreshed', message: 'トークンを更新しました', fields };
      }
      const issuedAt = result.issuedAt ?? null;
      if (since !== undefined && issuedAt !== null && issuedAt >= since) {
        return { outcome: 'skipped', code: 'fresh', message: freshMessage(context, issuedAt), fields };
      }
      const [code, message] = ifExpiring
        ? ['still_valid', 'トークンはまだ有効なため更新しませんでした']
        : ['peer_refreshed', 'ほかのプロセスが直前に更新したトークンを確認しました'];
      return { outcome: 'skipped', code, message, fields };
    },
  };
}

/**
 * The instant since which a saved pair counts as this run's work: within the fresh window (`--skip-if-fresh`,
 * the worker's half period), or at or after the worker's tick, however late this run got to look (a busy
 * machine, another worker's run ahead of it). Undefined: always refresh.
 */
function savedSince(context: JobContext): Date | undefined {
  const windowStart = context.freshWindowMs > 0 ? Date.now() - context.freshWindowMs : undefined;
  const tick = context.scheduledAt?.getTime();
  if (windowStart === undefined) return tick === undefined ? undefined : new Date(tick);
  return new Date(tick === undefined ? windowStart : Math.min(windowStart, tick));
}

function freshMessage(context: JobContext, issuedAt: Date): string {
  const ageMs = Date.now() - issuedAt.getTime();
  return ageMs < context.freshWindowMs
    ? `トークンは ${describeDuration(Math.max(0, ageMs))}前に更新済みのため、今回は更新しませんでした (${describeDuration(context.freshWindowMs)}以内の更新は同じ回の実行とみなします)。`
    : `トークンはこの回の予定時刻 (${context.scheduledAt?.toISOString()}) より後に更新済みのため、今回は更新しませんでした。`;
}
