// "連携を解除": the confirmation step before the revocation (a required checkbox, not a script's confirm()),
// with the choice of deleting the stored pair only when AlarmBox cannot be reached.
import { type Html, html } from './html.ts';
import { csrfField, type PageBase, page } from './layout.ts';

/** The form's field names, read by routes/revoke.ts. */
export const REVOKE_FIELDS = { confirm: 'confirm', localOnly: 'local_only' } as const;

export interface RevokeModel extends PageBase {
  readonly baseUrl: string;
  readonly database: string;
  /** Undefined when row 1 could not be read (the dashboard shows why). */
  readonly registered: boolean | undefined;
}

export function revokePage(m: RevokeModel): Html {
  return page(
    { title: '連携を解除', ...m },
    html`<p><a href="/">← 状態に戻る</a></p>
<section class="card" id="revoke">
<h2>連携を解除</h2>
${m.registered === true ? revokeForm(m) : notRegistered(m.registered)}
</section>`,
  );
}

function notRegistered(registered: false | undefined): Html {
  return registered === false
    ? html`<p>トークンは登録されていません。解除するものはありません。</p>`
    : html`<p>保存済みのトークンを読み込めませんでした。状態のページで理由を確認してください。</p>`;
}

function revokeForm(m: RevokeModel): Html {
  return html`<p>保存済みのトークンを AlarmBox (<code>${m.baseUrl}</code>) で失効させ (<code>POST /oauth/revoke</code>)、データベース (${m.database}) から削除します。トークンが漏えいしたおそれがあるとき、この連携を使わなくなったときに使います。</p>
<ul>
<li>このトークンを使うアプリ・定期更新ジョブは、もう一度連携するまで AlarmBox API を呼べなくなります${
    m.env === 'production' ? html` (<strong>本番環境です</strong>)` : ''
  }。</li>
<li>AlarmBox での失効に失敗したときは何も削除せず、理由を表示します。</li>
<li>もう一度使うには「AlarmBox と連携」から連携し直します。</li>
</ul>
<form method="post" action="/revoke">${csrfField(m.csrfToken)}
<p><label><input type="checkbox" name="${REVOKE_FIELDS.confirm}" value="yes" required> 上の内容を確認しました。連携を解除します</label></p>
<p><label><input type="checkbox" name="${REVOKE_FIELDS.localOnly}" value="yes"> AlarmBox に届かなくても削除する (AlarmBox には失効を依頼せず、保存済みのトークンだけを削除します。AlarmBox 側ではトークンが有効なまま残ることがあります)</label></p>
<div class="actions"><button type="submit" class="danger">連携を解除</button> <a class="button secondary" href="/">やめる</a></div>
</form>`;
}
