// The `version` of row 1: the compare-and-set counter of every write of a token pair. A refresh trusts a
// failed compare-and-set to mean "a peer saved first", so a counter that cannot be compared exactly (text on
// SQLite, a bigint beyond 2^53 that JavaScript rounds) must be caught before a token request is sent.
import type { RawBuilder } from 'kysely';
import { kysely } from '../db/kysely-runtime.ts';
import { AlarmboxError } from '../errors.ts';

/** The largest `version` JavaScript holds exactly (2^53 − 1). */
export const MAX_VERSION = Number.MAX_SAFE_INTEGER;
/** What a snapshot's `version` is when the stored value is not a safe non-negative integer. */
const INVALID_VERSION = -1;

/**
 * `version` as a query reads it: the stored value when it is an integer in 0..2^53 − 1, else -1. Decided in
 * SQL, so a value the driver cannot hand over exactly (pg refuses an int8 beyond 2^53, mysql2 returns it as a
 * string, SQLite stores text in any column) never reaches JavaScript.
 */
export function readableVersion(): RawBuilder<number> {
  return kysely()
    .sql<number>`case when version >= 0 and version <= ${MAX_VERSION} then version else ${INVALID_VERSION} end`;
}

/** {@link readableVersion} for a statement written out (SQLite's read of row 1): its text and its parameters. */
export const READABLE_VERSION_SQL = {
  text: 'case when version >= 0 and version <= ? then version else ? end',
  parameters: [MAX_VERSION, INVALID_VERSION],
} as const;

/**
 * The next `version` of an unconditional write (a new authorization): one more than a sound value, else 1,
 * so that `save-token` repairs a corrupted counter instead of carrying it on (or overflowing it).
 */
export function bumpedVersion(): RawBuilder<number> {
  return kysely()
    .sql<number>`case when version >= 0 and version < ${MAX_VERSION} then version + 1 else 1 end`;
}

/** The JavaScript side of {@link readableVersion} (SQLite hands back a real as it is): a safe integer ≥ 0, or -1. */
export function toVersion(value: unknown): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : INVALID_VERSION;
}

/**
 * Row 1's `version` cannot be used for the compare-and-set of a refresh (corrupted, or changed under us by
 * something else than this package). `stored_data_invalid`: a person must look at the row.
 */
export class TokenVersionError extends AlarmboxError {
  override readonly name: string = 'TokenVersionError';
  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super(message, { reason: 'stored_data_invalid', cause: options.cause });
  }
}
