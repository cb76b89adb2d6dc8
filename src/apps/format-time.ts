// Times and durations for people, in Japanese: shared by the CLI, the doctor and the web console.

/**
 * A time for people: local wall-clock with its zone, plus the exact UTC instant. Written as `ja-JP`'s
 * `toLocaleString` writes it (`2026/12/3 9:05:11 JST`) but without Intl: loading the locale and time-zone data
 * for the first `toLocaleString` took 13–17 ms here, a tenth of `alarmbox status`'s whole start.
 */
export function formatTime(date: Date | null): string {
  if (date === null) return '(なし)';
  const two = (n: number) => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}/${date.getMonth() + 1}/${date.getDate()}`;
  const time = `${date.getHours()}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  return `${day} ${time} ${zoneName(date.getTimezoneOffset())} (${date.toISOString()})`;
}

/** `JST` and `UTC` as ja-JP names them; any other offset as `UTC+5:30`. */
function zoneName(offsetMinutes: number): string {
  if (offsetMinutes === -540) return 'JST';
  if (offsetMinutes === 0) return 'UTC';
  const east = -offsetMinutes;
  const hours = Math.floor(Math.abs(east) / 60);
  const minutes = Math.abs(east) % 60;
  return `UTC${east < 0 ? '-' : '+'}${hours}${minutes === 0 ? '' : `:${String(minutes).padStart(2, '0')}`}`;
}

/** `3 時間 12 分` / `期限切れ (5 分前)` */
export function formatRemaining(expiredAt: Date | null, now: Date = new Date()): string {
  if (expiredAt === null) return '不明';
  const ms = expiredAt.getTime() - now.getTime();
  const text = formatDuration(Math.abs(ms));
  return ms >= 0 ? `残り ${text}` : `期限切れ (${text}前)`;
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} 時間 ${m} 分`;
  if (m > 0) return `${m} 分 ${s % 60} 秒`;
  return `${s} 秒`;
}
