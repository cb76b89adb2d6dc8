// The HTML pages of Doorkeeper's stock views (app/views/doorkeeper/authorizations/*.html.erb), reduced to
// the elements a person or a scraping test needs. Every interpolated value is escaped.
import type { PreAuthorization } from './pre-authorization.ts';

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

export function htmlResponse(html: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(html, { status, headers: { 'Content-Type': 'text/html; charset=utf-8', ...headers } });
}

/** `authorizations/error.html.erb`: rendered with HTTP 200, the description in a <pre>. */
export function errorPage(description: string): string {
  return layout(
    'An error has occurred',
    `<h1>An error has occurred</h1>\n<main role="main">\n<pre>${escapeHtml(description)}</pre>\n</main>`,
  );
}

/**
 * `authorizations/new.html.erb`: two forms carrying the request as hidden fields. Deny is a POST with
 * `_method=delete`, the way Rails' `form_tag … method: :delete` renders it (Rack::MethodOverride).
 */
export function consentPage(preAuth: PreAuthorization): string {
  const hidden = [
    ['client_id', preAuth.client.uid],
    ['redirect_uri', preAuth.redirectUri],
    ['state', preAuth.state ?? ''],
    ['response_type', preAuth.responseType],
    ['scope', preAuth.scopes.join(' ')],
  ]
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value ?? '')}">`)
    .join('\n');
  const scopes = preAuth.scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('\n');
  return layout(
    '認可が必要です',
    `<h1>認可が必要です</h1>
<main role="main">
<p><strong>${escapeHtml(preAuth.client.uid)}</strong> にあなたのアカウントの利用を許可しますか?</p>
<div id="oauth-permissions">
<p>このアプリケーションは次のことができるようになります:</p>
<ul>
${scopes}
</ul>
</div>
<div class="actions">
<form action="/oauth/authorize" method="post">
${hidden}
<button type="submit">承認</button>
</form>
<form action="/oauth/authorize" method="post">
<input type="hidden" name="_method" value="delete">
${hidden}
<button type="submit">否認</button>
</form>
</div>
</main>`,
  );
}

/** `authorizations/show.html.erb`: the OOB page showing the code to copy. */
export function nativeCodePage(code: string): string {
  return layout(
    'Authorization code',
    `<h1>Authorization code</h1>
<main role="main">
<code id="authorization_code">${escapeHtml(code)}</code>
</main>`,
  );
}

/** Rails' `redirect_to` body. */
export function redirectPage(location: string): string {
  return `<html><body>You are being <a href="${escapeHtml(location)}">redirected</a>.</body></html>`;
}

function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<title>AlarmBox エミュレータ: ${escapeHtml(title)}</title>
</head>
<body>
${body}
</body>
</html>
`;
}
