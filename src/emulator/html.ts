// The HTML pages of Doorkeeper's stock views (app/views/doorkeeper/authorizations/*.html.erb), reduced to
// the elements a person or a scraping test needs. Built with Hono's `html` template, which escapes every
// interpolated string (nested `html` results and `raw()` are kept as they are).
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { PreAuthorization } from './pre-authorization.ts';

type Page = HtmlEscapedString | Promise<HtmlEscapedString>;

export const HTML_CONTENT_TYPE = 'text/html; charset=utf-8';

/** A complete HTML response; `page` resolves synchronously here (no async children), awaited all the same. */
export async function htmlResponse(
  page: Page,
  status = 200,
  headers: Record<string, string> = {},
): Promise<Response> {
  return new Response(String(await page), {
    status,
    headers: { 'Content-Type': HTML_CONTENT_TYPE, ...headers },
  });
}

/** `authorizations/error.html.erb`: rendered with HTTP 200, the description in a <pre>. */
export function errorPage(description: string): Page {
  return layout(
    'An error has occurred',
    html`<h1>An error has occurred</h1>
<main role="main">
<pre>${description}</pre>
</main>`,
  );
}

/**
 * `authorizations/new.html.erb`: two forms carrying the request as hidden fields. Deny is a POST with
 * `_method=delete`, the way Rails' `form_tag … method: :delete` renders it (Rack::MethodOverride).
 */
export function consentPage(preAuth: PreAuthorization): Page {
  const fields: ReadonlyArray<readonly [string, string]> = [
    ['client_id', preAuth.client.uid],
    ['redirect_uri', preAuth.redirectUri],
    ['state', preAuth.state ?? ''],
    ['response_type', preAuth.responseType],
    ['scope', preAuth.scopes.join(' ')],
  ];
  const hidden = fields.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`);
  const scopes = preAuth.scopes.map((s) => html`<li>${s}</li>\n`);
  return layout(
    '認可が必要です',
    html`<h1>認可が必要です</h1>
<main role="main">
<p><strong>${preAuth.client.uid}</strong> にあなたのアカウントの利用を許可しますか?</p>
<div id="oauth-permissions">
<p>このアプリケーションは次のことができるようになります:</p>
<ul>
${scopes}</ul>
</div>
<div class="actions">
<form action="/oauth/authorize" method="post">
${hidden}<button type="submit">承認</button>
</form>
<form action="/oauth/authorize" method="post">
<input type="hidden" name="_method" value="delete">
${hidden}<button type="submit">否認</button>
</form>
</div>
</main>`,
  );
}

/** `authorizations/show.html.erb`: the OOB page showing the code to copy. */
export function nativeCodePage(code: string): Page {
  return layout(
    'Authorization code',
    html`<h1>Authorization code</h1>
<main role="main">
<code id="authorization_code">${code}</code>
</main>`,
  );
}

/** Rails' `redirect_to` body. */
export function redirectPage(location: string): Page {
  return html`<html><body>You are being <a href="${location}">redirected</a>.</body></html>`;
}

function layout(title: string, body: Page): Page {
  return html`<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<title>AlarmBox エミュレータ: ${title}</title>
</head>
<body>
${body}
</body>
</html>
`;
}
