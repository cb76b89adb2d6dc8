// The live countdown to the access token's expiry. The server renders the first value with
// formatCountdown; the inline script (allowed by the CSP nonce) repeats the same arithmetic every second.
import { trusted } from './html.ts';

export const COUNTDOWN_ID = 'countdown';

/** `残り 23 時間 59 分 58 秒` / `期限切れ (3 分 2 秒前)` */
export function formatCountdown(expiredAt: Date, now: number = Date.now()): string {
  const ms = expiredAt.getTime() - now;
  const text = duration(Math.abs(ms));
  return ms >= 0 ? `残り ${text}` : `期限切れ (${text}前)`;
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} 時間 ${m} 分 ${s % 60} 秒`;
  if (m > 0) return `${m} 分 ${s % 60} 秒`;
  return `${s % 60} 秒`;
}

/** Browser code: keep it in step with formatCountdown above. */
export const COUNTDOWN_SCRIPT = trusted(`
(() => {
  const el = document.getElementById(${JSON.stringify(COUNTDOWN_ID)});
  if (el === null) return;
  const end = Date.parse(el.dataset.expiresAt);
  const duration = (ms) => {
    const s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    if (h > 0) return h + ' 時間 ' + m + ' 分 ' + (s % 60) + ' 秒';
    if (m > 0) return m + ' 分 ' + (s % 60) + ' 秒';
    return (s % 60) + ' 秒';
  };
  const tick = () => {
    const ms = end - Date.now();
    el.textContent = ms >= 0 ? '残り ' + duration(ms) : '期限切れ (' + duration(-ms) + '前)';
    el.classList.toggle('expired', ms < 0);
  };
  tick();
  setInterval(tick, 1000);
})();
`);
