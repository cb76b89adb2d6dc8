import type { DatabaseAdapter } from './dialects/adapter.ts';
import { adapterFor } from './dialects/index.ts';
import { DatabaseTimeValueError } from './errors.ts';
import type { DbTime } from './schema.ts';
import type { DatabaseDialect } from './url.ts';

// All time columns hold UTC. MySQL `datetime(3)` has no zone, so the pool runs with mysql2's
// `timezone: 'Z'` (and a UTC session); PostgreSQL `timestamptz(3)` is an instant already; SQLite has no
// time type, so it stores ISO-8601 text with the `Z`. Each adapter's `timeValue` says how to bind one.

/** The value to bind for a time column on `dialect` (or of `adapter`). */
export function toDbTime(database: DatabaseDialect | DatabaseAdapter, date: Date): DbTime {
  if (Number.isNaN(date.getTime())) {
    throw new DatabaseTimeValueError('無効な日時をデータベースに書き込もうとしました。');
  }
  const adapter = typeof database === 'string' ? adapterFor(database) : database;
  return adapter.timeValue(date);
}

// `2026-11-25T08:50:00.000Z`, `2026-11-25 08:50:00.123+09:00`, or zone-less `2026-11-25 08:50:00` (= UTC).
const TIME_TEXT =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Reads a time column on any dialect. `null` stays `null`; anything that is not an instant throws. */
export function fromDbTime(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalid('Invalid Date');
    return new Date(value.getTime());
  }
  if (typeof value === 'string') {
    const match = TIME_TEXT.exec(value.trim());
    if (match === null) throw invalid(JSON.stringify(value.slice(0, 40)));
    const [, day, time, zone] = match;
    // JS parses at most milliseconds; drop finer digits rather than let Date.parse reject the value.
    const clock = (time ?? '').replace(/(\.\d{3})\d+$/, '$1');
    const offset = zone === undefined || zone.toUpperCase() === 'Z' ? 'Z' : normalizeOffset(zone);
    const date = new Date(`${day}T${clock}${offset}`);
    if (Number.isNaN(date.getTime())) throw invalid(JSON.stringify(value.slice(0, 40)));
    return date;
  }
  throw invalid(typeof value);
}

function normalizeOffset(zone: string): string {
  const digits = zone.slice(1).replace(':', '');
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4).padEnd(2, '0')}`;
}

function invalid(what: string): DatabaseTimeValueError {
  return new DatabaseTimeValueError(`データベースの日時の値を解釈できません (${what})。`);
}
