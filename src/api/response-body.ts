// Reading AlarmBox's answers. Its error bodies are undocumented (docs/design.md「AlarmBox について分かっていること」) and, if it is stock
// Doorkeeper, empty on 401/403 (§2); a proxy in front may answer HTML. Everything here tolerates any body and
// reduces it to a short, redacted summary that is safe to put in an error message.

import { redact } from '../text/redact.ts';
import { terminalSafe } from '../text/terminal-safe.ts';

export type BodyKind = 'empty' | 'json' | 'broken-json' | 'html' | 'text';

export interface ReadBody {
  readonly kind: BodyKind;
  /** The parsed value when `kind` is `json`. */
  readonly json: unknown;
  /** The raw text (kept only to be redacted into `responseBody`; never printed as such). */
  readonly text: string;
}

/** Classifies `text` by its Content-Type and its first character, parsing JSON when it claims to be JSON. */
export function classifyBody(text: string, contentType: string | null): ReadBody {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'empty', json: undefined, text };
  const type = (contentType ?? '').toLowerCase();
  const looksJson = type.includes('json') || trimmed.startsWith('{') || trimmed.startsWith('[');
  if (looksJson) {
    try {
      return { kind: 'json', json: JSON.parse(trimmed) as unknown, text };
    } catch {
      return { kind: 'broken-json', json: undefined, text };
    }
  }
  const html = type.includes('html') || /^<(!doctype|html|head|body)/i.test(trimmed);
  return { kind: html ? 'html' : 'text', json: undefined, text };
}

/** One validation problem AlarmBox reported (400): the field, when it named one, and its message. */
export interface ApiErrorDetail {
  readonly field?: string | undefined;
  readonly message: string;
}

const MAX_DETAILS = 5;
const MAX_DETAIL_LENGTH = 200;

/**
 * The problems an error body names, whatever shape it takes: Rails `{errors:[{field,message}]}` (as the
 * emulator answers), `{errors:{field:[…]}}`, `{errors:["…"]}`, OAuth `{error, error_description}`,
 * `{message}`. Each string is redacted and shortened; at most five are kept.
 */
export function errorDetails(body: ReadBody): ApiErrorDetail[] {
  if (body.kind !== 'json' || !isRecord(body.json)) return [];
  const b = body.json;
  const out: ApiErrorDetail[] = [];
  const add = (message: unknown, field?: unknown) => {
    if (typeof message !== 'string' || message.trim() === '') return;
    out.push({
      ...(typeof field === 'string' && field !== '' ? { field: clip(field) } : {}),
      message: clip(message),
    });
  };
  const errors = b.errors;
  if (Array.isArray(errors)) {
    for (const e of errors) {
      if (typeof e === 'string') add(e);
      else if (isRecord(e)) add(e.message ?? e.error ?? e.detail, e.field ?? e.attribute ?? e.key);
    }
  } else if (isRecord(errors)) {
    for (const [field, messages] of Object.entries(errors)) {
      for (const m of Array.isArray(messages) ? messages : [messages]) add(m, field);
    }
  }
  if (typeof b.error === 'string') {
    if (typeof b.error_description === 'string') add(b.error_description, b.error);
    else add(b.error);
  }
  add(b.message);
  return out.slice(0, MAX_DETAILS);
}

/** `法人番号: 13 桁で…; deal: …` or, without details, what kind of body it was. Safe for messages. */
export function summariseBody(body: ReadBody): string {
  const details = errorDetails(body);
  if (details.length > 0) {
    return details.map((d) => (d.field === undefined ? d.message : `${d.field}: ${d.message}`)).join(' / ');
  }
  switch (body.kind) {
    case 'empty':
      return '応答本文なし';
    case 'html':
      return 'HTML の応答 (AlarmBox の前段のサーバーが返したページの可能性があります。本文は省略)';
    case 'broken-json':
      return '壊れた JSON の応答 (本文は省略)';
    case 'text':
      return `テキストの応答: ${clip(body.text.trim().split('\n', 1)[0] ?? '')}`;
    case 'json':
      return 'JSON の応答 (エラー内容の項目なし。本文は省略)';
  }
}

function clip(text: string): string {
  // One line (whitespace, line breaks included, becomes a space), then no control character left.
  const one = terminalSafe(redact(text.replace(/\s+/g, ' ').trim()));
  return one.length > MAX_DETAIL_LENGTH ? `${one.slice(0, MAX_DETAIL_LENGTH)}…` : one;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
