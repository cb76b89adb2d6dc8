import { Cron } from 'croner';
import { ConfigError } from '../../config/errors.ts';

/** The guide's `CloudRunJobs` time zone: the company's. Always passed explicitly to croner and schedulers. */
export const DEFAULT_TIMEZONE = 'Asia/Tokyo';

export interface Schedule {
  readonly pattern: string;
  readonly timezone: string;
  /** The shortest gap between two runs over the next few runs (ms). */
  readonly periodMs: number;
}

/**
 * Checks a cron pattern (5 fields, or 6 with seconds first) and an IANA time zone with croner, and works out
 * the period. `source` names the option or variable in messages.
 */
export function parseSchedule(pattern: string, timezone: string, source: string): Schedule {
  const zone = parseTimezone(timezone);
  let cron: Cron;
  try {
    cron = new Cron(pattern.trim(), { timezone: zone, paused: true, mode: '5-or-6-parts' });
  } catch (error) {
    throw new ConfigError(
      source,
      `${source} "${pattern.slice(0, 64)}" は cron 式として解釈できません (${error instanceof Error ? error.message : '不明'})。` +
        '「分 時 日 月 曜日」の 5 項目 (秒を先頭に足した 6 項目も可) で指定してください (例: "0 */12 * * *")。',
    );
  }
  const runs = cron.nextRuns(6);
  cron.stop();
  if (runs.length < 2) {
    throw new ConfigError(source, `${source} "${pattern}" は繰り返し実行されません。例: "0 */12 * * *"`);
  }
  let periodMs = Number.POSITIVE_INFINITY;
  for (let i = 1; i < runs.length; i++) {
    periodMs = Math.min(periodMs, runs[i]!.getTime() - runs[i - 1]!.getTime());
  }
  return { pattern: pattern.trim(), timezone: zone, periodMs };
}

function parseTimezone(timezone: string, source = '--timezone'): string {
  const zone = timezone.trim();
  try {
    // Throws RangeError for a zone the runtime does not know.
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    if (zone === '') throw new RangeError('empty');
    return zone;
  } catch {
    throw new ConfigError(
      source,
      `${source} "${zone.slice(0, 64)}" はタイムゾーンとして使えません。IANA の名前で指定してください (例: ${source} ${DEFAULT_TIMEZONE}、UTC)。`,
    );
  }
}
