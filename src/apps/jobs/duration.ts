import { MAX_TIMER_MS } from '../../config/config.ts';
import { ConfigError } from '../../config/errors.ts';

const UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNITS;
const DURATION = /^(\d{1,9})(ms|s|m|h|d)?$/;

/**
 * `500ms`, `90s`, `5m`, `6h`, `1d`, or a bare number of seconds. `source` (an option or a variable) is named
 * in the message, with an example.
 */
export function parseDuration(value: string, source: string, example: string): number {
  const match = DURATION.exec(value.trim());
  if (match === null) {
    throw new ConfigError(
      source,
      `${source} の値 "${value.slice(0, 32)}" は時間として解釈できません。数字と単位 (ms / s / m / h / d、単位なしは秒) で指定してください (例: ${source} ${example})。`,
    );
  }
  const ms = Number(match[1]) * UNITS[(match[2] ?? 's') as Unit];
  if (ms > MAX_TIMER_MS) {
    throw new ConfigError(
      source,
      `${source} の値 "${value.slice(0, 32)}" は長すぎます。24d (Node.js のタイマーが扱える最大値、約 24.8 日) 以下で指定してください (例: ${source} ${example})。`,
    );
  }
  return ms;
}

/** The largest unit that divides evenly: 21600000 → `6h`, 90000 → `90s`, 1500 → `1500ms`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNITS[unit] && ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** For people: `6 時間`, `1 分 30 秒`, `0.5 秒`. */
export function describeDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms) / 1000} 秒`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const parts = [h > 0 ? `${h} 時間` : '', m > 0 ? `${m} 分` : '', rest > 0 ? `${rest} 秒` : ''];
  return parts.filter(Boolean).join(' ');
}
