// The page shell: one inline stylesheet and, when a page needs it, one inline script, both allowed by the
// per-response CSP nonce (no 'unsafe-inline'). No external resources: the console works offline.

import { FAILURE_REASONS } from '../../../failure-reason.ts';
import { CSRF_FIELD } from '../csrf.ts';
import type { Notice } from '../notices.ts';
import { describeReason } from '../reasons.ts';
import { type Html, html, type Part, trusted } from './html.ts';

const STYLE = trusted(`
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --bg: #f5f7fa;
  --accent: #0b62c4; --ok: #1f8a4c; --warn: #b7791f; --bad: #c53030; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.6 system-ui, "IPAPGothic",
  "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif; }
header { background: #102a43; color: #fff; padding: 12px 24px; display: flex; gap: 12px; align-items: center; }
header h1 { font-size: 18px; margin: 0; font-weight: 600; }
header a { color: #fff; text-decoration: none; }
.badge { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #334e68; }
.badge.production { background: var(--bad); }
.badge.sandbox { background: var(--warn); }
main { max-width: 960px; margin: 0 auto; padding: 20px 24px 40px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; }
.card.wide { grid-column: 1 / -1; }
.card h2 { font-size: 16px; margin: 0 0 12px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.status { font-weight: 700; }
.status.registered { color: var(--ok); }
.status.missing { color: var(--bad); }
.countdown { font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; }
.countdown.expired { color: var(--bad); }
.actions { display: flex; gap: 8px; flex-wrap: wrap; margin-top: 14px; align-items: center; }
button, .button { font: inherit; padding: 6px 16px; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger, .button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
.button.danger.secondary { background: #fff; color: var(--bad); }
form { margin: 0; }
input[type=text], select { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; }
input[type=text] { width: 100%; }
.notice { border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; border: 1px solid; }
.notice.success { background: #e3f9e5; border-color: #91d8a6; }
.notice.error { background: #ffe3e3; border-color: #f29b9b; }
.notice h2 { font-size: 16px; margin: 0 0 4px; }
.notice p { margin: 2px 0; }
.muted { color: var(--muted); font-size: 13px; }
ol.timeline { list-style: none; margin: 0; padding: 0 0 0 8px; border-left: 2px solid var(--line); }
ol.timeline li { position: relative; padding: 2px 0 10px 16px; }
ol.timeline li::before { content: ""; position: absolute; left: -7px; top: 8px; width: 12px; height: 12px;
  border-radius: 50%; background: var(--bad); }
ol.timeline li.ok::before { background: var(--ok); }
ol.timeline li.skipped::before { background: #9fb3c8; }
ol.timeline li.revoked::before { background: var(--warn); }
.outcome { font-weight: 700; }
li.ok .outcome { color: var(--ok); }
li.failed .outcome { color: var(--bad); }
.result { font-size: 20px; font-weight: 700; }
.result.ok { color: var(--ok); } .result.hold { color: var(--warn); } .result.ng { color: var(--bad); }
ol.steps { padding-left: 20px; }
code { background: #eef2f7; padding: 1px 4px; border-radius: 4px; }
`);

/** What every page of a route shows around its body: the CSP nonce, the forms' token, a notice, the badges. */
export interface PageBase {
  readonly nonce: string;
  readonly csrfToken: string;
  readonly notice: Notice | undefined;
  readonly env: string;
  readonly sandbox: boolean;
}

export interface PageOptions {
  readonly title: string;
  readonly nonce: string;
  readonly env?: string | undefined;
  readonly sandbox?: boolean | undefined;
  readonly notice?: Notice | undefined;
  readonly script?: Html | undefined;
}

export function page(options: PageOptions, body: Part): Html {
  const envBadge =
    options.env === undefined
      ? null
      : html`<span class="badge ${options.env === 'production' ? 'production' : ''}">ALARMBOX_ENV=${options.env}</span>`;
  return html`<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${options.title} | AlarmBox コンソール</title>
<style nonce="${options.nonce}">${STYLE}</style>
</head>
<body>
<header><h1><a href="/">AlarmBox コンソール</a></h1>${envBadge}${options.sandbox === true && html`<span class="badge sandbox">内蔵エミュレータ</span>`}</header>
<main>
${options.notice !== undefined && noticeBox(options.notice)}
${body}
</main>
${options.script !== undefined && html`<script nonce="${options.nonce}">${options.script}</script>`}
</body>
</html>
`;
}

function noticeBox(notice: Notice): Html {
  return html`<section class="notice ${notice.kind}" role="${notice.kind === 'error' ? 'alert' : 'status'}" id="notice">
<h2>${notice.title}</h2>
${notice.lines.map((line) => html`<p>${line}</p>`)}
${
  notice.reason !== undefined &&
  html`<p>理由: ${describeReason(notice.reason)}</p><p class="muted">${FAILURE_REASONS[notice.reason].advice}</p>`
}
</section>`;
}

/** The hidden CSRF field every POST form carries. */
export function csrfField(token: string): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;
}
