// Small pages: refusals (CSRF, host, not found) and the hop back from the loopback callback.
import { type Html, html } from './html.ts';
import { page } from './layout.ts';

export function messagePage(nonce: string, title: string, message: string): Html {
  return page(
    { title, nonce },
    html`<section class="notice error" role="alert"><h2>${title}</h2><p>${message}</p></section>
<p><a href="/">状態のページへ</a></p>`,
  );
}

/**
 * After the loopback callback: a same-origin hop to the next page. A redirect would keep the navigation
 * "cross-site" (it began at AlarmBox), so the browser would not send the SameSite=Strict cookie and the next
 * page's forms would get a new CSRF session; a refresh from this page starts a navigation of our own.
 */
export function hopPage(title: string, target: string): Html {
  return html`<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${target}">
<title>${title} | AlarmBox コンソール</title></head>
<body><p>${title}。<a href="${target}">コンソールに戻る</a></p></body></html>
`;
}
