// "AlarmBox と連携": the loopback flow (AlarmBox sends the browser back to /callback) and the paste flow
// (the person copies the code AlarmBox shows). The authorize URL carries no secret; the code never comes back
// into any page.
import { OOB_REDIRECT_URI } from '../../../config/index.ts';
import type { ConnectPlan } from '../connect-plan.ts';
import { type Html, html } from './html.ts';
import { csrfField, type PageBase, page } from './layout.ts';

export interface ConnectModel extends PageBase {
  /** Undefined when the configuration does not allow connecting (see `problem`). */
  readonly plan: ConnectPlan | undefined;
  readonly problem: string | undefined;
  /** A pair is stored already: connecting again replaces it. */
  readonly registered: boolean;
}

export function connectPage(m: ConnectModel): Html {
  const plan = m.plan;
  const sections =
    plan === undefined
      ? html`<section class="notice error" role="alert"><h2>連携を始められません</h2><p>エラー: ${m.problem ?? '不明'}</p></section>`
      : html`${plan.loopbackRedirectUri !== undefined && loopbackSection(m, plan.loopbackRedirectUri)}
${plan.paste !== undefined && pasteSection(m, plan.paste)}
${plan.notes.map((n) => html`<p class="muted">${n}</p>`)}`;
  return page(
    { title: 'AlarmBox と連携', ...m },
    html`<p><a href="/">← 状態に戻る</a></p>
${
  m.registered &&
  html`<p class="notice error">トークンは登録済みです。連携し直すと、保存済みのトークンは新しいトークンで置き換えられます${
    m.env === 'production' ? ' (本番環境です。ほかのサービスも同じトークンを使っています)' : ''
  }。</p>`
}
<div class="grid">${sections}</div>`,
  );
}

function loopbackSection(m: ConnectModel, redirectUri: string): Html {
  return html`<section class="card" id="connect-loopback">
<h2>自動で戻る連携</h2>
<p>AlarmBox の画面で承認すると、このコンソール (<code>${redirectUri}</code>) に戻り、トークンを保存します。</p>
<form method="post" action="/connect/start">${csrfField(m.csrfToken)}<button type="submit">AlarmBox と連携</button></form>
</section>`;
}

function pasteSection(m: ConnectModel, paste: NonNullable<ConnectPlan['paste']>): Html {
  const oob = paste.redirectUri === OOB_REDIRECT_URI;
  return html`<section class="card" id="connect-paste">
<h2>認可コードを貼り付ける連携</h2>
<ol class="steps">
<li><a href="${paste.authorizeUrl}" target="_blank" rel="noopener noreferrer" id="authorize-link">AlarmBox の認可ページを開く</a> (新しいタブ) で承認します。</li>
<li>${oob ? '表示された認可コードをコピーします (10 分以内・1 回限り)。' : '移動した先の URL にある code= の値をコピーします (10 分以内・1 回限り)。'}</li>
<li>ここに貼り付けて保存します。</li>
</ol>
<form method="post" action="/connect/code">${csrfField(m.csrfToken)}
<label for="code">認可コード</label>
<input type="text" id="code" name="code" autocomplete="off" spellcheck="false" required>
<div class="actions"><button type="submit">保存</button></div>
</form>
</section>`;
}
