// The console's home: the token's state and countdown, the actions, the refresh timeline, the settings.
import { isRevocationOutcome, type RefreshHistoryEntry } from '../../../alarmbox/refresh-history.ts';
import { formatTime } from '../../format-time.ts';
import { TEST_CORPORATION_NUMBERS } from '../api-trial.ts';
import type { ConsoleDeps } from '../context.ts';
import { outcomeLabel } from '../reasons.ts';
import { COUNTDOWN_ID, COUNTDOWN_SCRIPT, formatCountdown } from './countdown.ts';
import { type Html, html } from './html.ts';
import { csrfField, type PageBase, page } from './layout.ts';

/** Row 1 as the page shows it: no token value, not even masked. */
export interface TokenSummary {
  readonly registered: boolean;
  readonly expiredAt: Date | null;
  readonly scope: string | null;
  readonly version: number;
  readonly lastRefreshAt: Date | null;
  readonly lastRefreshOutcome: string | null;
  readonly lastError: string | null;
}

export interface DashboardModel extends PageBase {
  /** Undefined when row 1 could not be read (see `problems`). */
  readonly token: TokenSummary | undefined;
  readonly history: readonly RefreshHistoryEntry[] | undefined;
  readonly consecutiveFailures: number;
  /** Messages of what could not be read (database, migrations), as the CLI would print them. */
  readonly problems: readonly string[];
  readonly baseUrl: string;
  readonly database: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly sandboxInfo: ConsoleDeps['sandbox'];
  /** `emulator`: a credit check with a test number; `alarmbox`: a read-only call. */
  readonly apiTarget: 'emulator' | 'alarmbox';
}

const TRIGGER_LABELS: Record<string, string> = { online: 'アプリ', batch: '定期', manual: '手動' };

export function dashboardPage(m: DashboardModel): Html {
  return page(
    {
      title: '状態',
      ...m,
      script: m.token?.registered === true && m.token.expiredAt !== null ? COUNTDOWN_SCRIPT : undefined,
    },
    html`${m.problems.length > 0 && problemsBox(m.problems)}
<div class="grid">
${tokenCard(m)}
${apiCard(m)}
${timelineCard(m)}
${settingsCard(m)}
</div>`,
  );
}

function problemsBox(problems: readonly string[]): Html {
  return html`<section class="notice error" role="alert"><h2>読み込めない情報があります</h2>${problems.map(
    (p) => html`<p>エラー: ${p}</p>`,
  )}</section>`;
}

function tokenCard(m: DashboardModel): Html {
  const t = m.token;
  const rows =
    t === undefined
      ? html`<dt>登録状況</dt><dd>不明</dd>`
      : html`<dt>登録状況</dt><dd id="registration" class="status ${t.registered ? 'registered' : 'missing'}">${
          t.registered ? '登録済み' : '未登録'
        }</dd>
${
  t.registered &&
  html`<dt>有効期限</dt><dd>${
    t.expiredAt === null
      ? '不明'
      : html`<span id="${COUNTDOWN_ID}" class="countdown" data-expires-at="${t.expiredAt.toISOString()}">${formatCountdown(t.expiredAt)}</span><br><span class="muted">${formatTime(t.expiredAt)}</span>`
  }</dd>
<dt>スコープ</dt><dd>${t.scope ?? '(不明)'}</dd>
<dt>世代</dt><dd>${t.version} <span class="muted">(トークンを保存するたびに 1 増えます)</span></dd>`
}
<dt>最後の更新</dt><dd>${formatTime(t.lastRefreshAt)}${t.lastRefreshOutcome !== null && ` [${outcomeLabel(t.lastRefreshOutcome)}]`}</dd>
${t.lastError !== null && t.lastRefreshOutcome !== 'ok' && html`<dt>最後のエラー</dt><dd>${t.lastError}</dd>`}
<dt>連続失敗</dt><dd>${m.consecutiveFailures} 回</dd>`;
  return html`<section class="card" id="token">
<h2>トークン</h2>
<dl>${rows}</dl>
<div class="actions">
<a class="button" href="/connect">AlarmBox と連携</a>
<form method="post" action="/refresh">${csrfField(m.csrfToken)}<button type="submit" class="secondary">今すぐ更新</button></form>
${t?.registered === true && html`<a class="button danger secondary" href="/revoke">連携を解除</a>`}
</div>
</section>`;
}

function apiCard(m: DashboardModel): Html {
  const body =
    m.apiTarget === 'emulator'
      ? html`<p>エミュレータの信用チェック API (<code>POST /ps/v1/credit_checks</code>) をテスト用の法人番号で呼び出します。</p>
<form method="post" action="/api-trial">${csrfField(m.csrfToken)}
<label>法人番号 <select name="corporation_number">${TEST_CORPORATION_NUMBERS.map(
          (n) => html`<option value="${n.number}">${n.number} (${n.expected})</option>`,
        )}</select></label>
<div class="actions"><button type="submit">API を試す</button></div>
</form>`
      : html`<p>本物の AlarmBox には、読み取りだけの <code>GET /oauth/token/info</code> を送ります (課金されません)。トークンの有効なスコープと残り時間を表示します。</p>
<form method="post" action="/api-trial">${csrfField(m.csrfToken)}
<div class="actions"><button type="submit">API を試す</button></div>
</form>`;
  return html`<section class="card" id="api-trial"><h2>API を試す</h2>${body}</section>`;
}

function timelineCard(m: DashboardModel): Html {
  const entries = m.history;
  const list =
    entries === undefined
      ? html`<p class="muted">更新履歴を読み込めませんでした。</p>`
      : entries.length === 0
        ? html`<p class="muted">まだ更新していません。</p>`
        : html`<ol class="timeline">${entries.map(
            (e) => html`<li class="${timelineClass(e.outcome)}">
<span class="outcome">${outcomeLabel(e.outcome)}</span> <span class="muted">(${e.outcome})</span>
${TRIGGER_LABELS[e.trigger] ?? e.trigger} · ${formatTime(e.attemptedAt)} · ${e.durationMs} ms
${e.message !== null && html`<div class="muted">${e.message}</div>`}
</li>`,
          )}</ol>`;
  return html`<section class="card wide" id="timeline"><h2>更新履歴 (新しい順)</h2>${list}</section>`;
}

/** The dot of a timeline entry: a success, nothing needed, a revocation, or a failure. */
function timelineClass(outcome: string): string {
  if (outcome === 'ok' || outcome === 'skipped') return outcome;
  return isRevocationOutcome(outcome) ? 'revoked' : 'failed';
}

function settingsCard(m: DashboardModel): Html {
  return html`<section class="card wide" id="settings"><h2>設定</h2>
<dl>
<dt>環境 (ALARMBOX_ENV)</dt><dd id="env">${m.env}</dd>
<dt>AlarmBox (ALARMBOX_BASE_URL)</dt><dd id="base-url">${m.baseUrl}</dd>
<dt>データベース</dt><dd>${m.database}</dd>
<dt>リダイレクト URI</dt><dd>${m.redirectUri}</dd>
<dt>スコープ (ALARMBOX_SCOPE)</dt><dd>${m.scope}</dd>
${
  m.sandboxInfo !== undefined &&
  html`<dt>内蔵エミュレータ</dt><dd>${m.sandboxInfo.emulatorUrl} <span class="muted">(一時データベースと一時キーを ${m.sandboxInfo.dir} に置いています。コンソールを止めると消えます)</span></dd>`
}
</dl>
</section>`;
}
