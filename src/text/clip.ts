// Cutting text to a column or display size. `varchar(n)` counts characters (code points) on PostgreSQL and
// on MySQL/MariaDB with utf8mb4; a JS string's `length` counts UTF-16 units, never fewer, so a text of at most
// n units always fits. A cut never splits a surrogate pair (half a pair has no UTF-8 encoding).

/** `text` if it has at most `max` UTF-16 units, else its start and `…`, in at most `max` units. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max < 1) return '';
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
