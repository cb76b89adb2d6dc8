// A tiny auto-escaping HTML template: every interpolated value is escaped unless it is itself `Html`
// (built by this template). Synchronous and typed, so a view is a plain function returning Html.

/** Markup that is safe to send as is: only {@link html} and {@link trusted} create it. */
export class Html {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  toString(): string {
    return this.#text;
  }
}

/** What a view may interpolate; `null`, `undefined` and `false` render nothing (for `cond && html…`). */
export type Part = Html | string | number | null | undefined | false | readonly Part[];

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.toString();
  if (typeof part === 'number') return String(part);
  if (typeof part === 'string') return escapeHtml(part);
  return part.map(render).join('');
}

export function html(strings: TemplateStringsArray, ...values: readonly Part[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** For constant markup and scripts written in this code base; never for anything a request carried. */
export function trusted(text: string): Html {
  return new Html(text);
}
