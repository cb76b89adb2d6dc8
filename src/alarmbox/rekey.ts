// Key rotation: re-encrypts row 1 with the first key of the ring, so the old key can leave the ring.
// Safe while the application serves traffic: the write is a compare-and-set on the version and on the
// exact stored envelopes, so a refresh that lands in between is never overwritten (we re-read and retry).
// The version is not bumped: the token pair did not change, and a forced refresh must not mistake a
// re-encryption for a peer's refresh.
import { type FieldLocation, type KeyRing, openField, sealField } from '../crypto/index.ts';
import type { DatabaseHandle } from '../db/connection.ts';
import { toDatabaseError } from '../db/connection.ts';
import { TOKENS_TABLE } from '../db/schema.ts';
import { AlarmboxError } from '../errors.ts';
import { AlarmboxTokenNotFoundError } from './errors.ts';
import { TOKEN_COLUMN_SIZE } from './token-store.ts';

const ROW_ID = 1;
const MAX_ATTEMPTS = 10;

export interface RekeyResult {
  /** False when both columns were already under the ring's first key. */
  readonly changed: boolean;
  /** The key ids the row was encrypted with before (one per column, deduplicated). */
  readonly previousKeyIds: readonly string[];
  readonly keyId: string;
}

/** The key id inside an envelope `v1.<keyId>.<iv>.<body>`, or undefined when it is not one. */
export function envelopeKeyId(envelope: string): string | undefined {
  const parts = envelope.split('.');
  return parts.length === 4 ? parts[1] : undefined;
}

function location(column: 'access_token' | 'refresh_token'): FieldLocation {
  return { table: TOKENS_TABLE, column, rowId: ROW_ID };
}

/**
 * @throws AlarmboxTokenNotFoundError (nothing stored), DecryptionError (a key missing from the ring),
 *   DatabaseUnavailableError
 */
export async function rekeyStoredToken(handle: DatabaseHandle, ring: KeyRing): Promise<RekeyResult> {
  const run = async <T>(query: () => Promise<T>): Promise<T> => {
    try {
      return await query();
    } catch (error) {
      throw toDatabaseError(error, handle.target);
    }
  };
  const primary = ring.primary.id;
  for (let attempt = 1; ; attempt++) {
    const row = await run(async () =>
      (await handle.open())
        .selectFrom(TOKENS_TABLE)
        .select(['access_token', 'refresh_token', 'version'])
        .where('id', '=', ROW_ID)
        .executeTakeFirst(),
    );
    if (row === undefined || row.access_token === '' || row.refresh_token === '') {
      throw new AlarmboxTokenNotFoundError();
    }
    const previousKeyIds = [
      ...new Set([envelopeKeyId(row.access_token) ?? '?', envelopeKeyId(row.refresh_token) ?? '?']),
    ];
    if (previousKeyIds.length === 1 && previousKeyIds[0] === primary) {
      return { changed: false, previousKeyIds, keyId: primary };
    }
    const access = openField(ring, row.access_token, location('access_token'));
    const refresh = openField(ring, row.refresh_token, location('refresh_token'));
    const updated = await run(async () =>
      (await handle.open())
        .updateTable(TOKENS_TABLE)
        .set({
          access_token: sealField(ring, access, location('access_token'), TOKEN_COLUMN_SIZE),
          refresh_token: sealField(ring, refresh, location('refresh_token'), TOKEN_COLUMN_SIZE),
        })
        .where('id', '=', ROW_ID)
        .where('version', '=', row.version)
        .where('access_token', '=', row.access_token)
        .where('refresh_token', '=', row.refresh_token)
        .executeTakeFirst(),
    );
    if (Number(updated.numUpdatedRows) === 1) return { changed: true, previousKeyIds, keyId: primary };
    // A refresh stored a new pair meanwhile (under the primary key, if this instance's ring is deployed
    // everywhere): read again and check.
    if (attempt >= MAX_ATTEMPTS) {
      throw new RekeyContendedError(
        'トークンの更新が続いているため再暗号化できませんでした。しばらくしてから alarmbox rekey を再実行してください。',
      );
    }
  }
}

class RekeyContendedError extends AlarmboxError {
  override readonly name: string = 'RekeyContendedError';
  constructor(message: string) {
    super(message, { reason: 'temporary' });
  }
}
