// Times and durations for people, in Japanese: shared by the CLI, the doctor and the web console.

/** A time for people: local wall-clock with its zone, plus the exact UTC instant. */
export function formatTime(date: Date | null): string {
  if (date === null) return '(なし)';
  const local = date.toLocaleString('ja-JP', { hour12: false, timeZoneName: 'short' });
  return `${local} (${date.toISOString()})`;
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
