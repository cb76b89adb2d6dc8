import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptionError, EnvelopeTooLongError } from './errors.ts';
import type { KeyRing } from './key-ring.ts';

// Envelope: `v1.<keyId>.<iv>.<ciphertext‖tag>` (base64url). The version lets the format change later;
// the key id picks the key from the ring. A 43-char token gives about 110 characters.
const VERSION = 'v1';
const IV_BYTES = 12; // NIST SP 800-38D: 96-bit IVs for GCM
const TAG_BYTES = 16;

/** Where a value lives. Bound into the GCM additional data: a value copied elsewhere fails to decrypt. */
export interface FieldLocation {
  readonly table: string;
  readonly column: string;
  readonly rowId: string | number;
}

function additionalData(keyId: string, at: FieldLocation): Buffer {
  return Buffer.from(`alarmbox-auth/${VERSION}|${keyId}|${at.table}|${at.column}|${at.rowId}`, 'utf8');
}

/**
 * Encrypts `plaintext` with the ring's primary key (AES-256-GCM, random 96-bit IV).
 * @param maxLength the column size: refuse to produce what the database would truncate or reject
 */
export function sealField(ring: KeyRing, plaintext: string, at: FieldLocation, maxLength = 512): string {
  const { id, key } = ring.primary;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(id, at));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  const envelope = `${VERSION}.${id}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  if (envelope.length > maxLength) {
    throw new EnvelopeTooLongError(
      `${at.table}.${at.column} に保存する値が長すぎます (暗号化後 ${envelope.length} 文字 > ${maxLength} 文字)。` +
        'AlarmBox から想定外の長さのトークンが返されました。',
    );
  }
  return envelope;
}

/** Decrypts an envelope made by {@link sealField} for the same location; any mismatch is a {@link DecryptionError}. */
export function openField(ring: KeyRing, envelope: string, at: FieldLocation): string {
  const where = `${at.table}.${at.column} (id=${at.rowId})`;
  const parts = envelope.split('.');
  if (parts.length !== 4) {
    throw new DecryptionError(
      'malformed',
      `${where} の暗号化データの形式が壊れています。save-token で再登録してください。`,
    );
  }
  const [version, keyId, ivText, bodyText] = parts as [string, string, string, string];
  if (version !== VERSION) {
    throw new DecryptionError(
      'unsupported_version',
      `${where} の暗号化形式 "${version.slice(0, 8)}" はこのバージョンでは読めません。alarmbox-auth を更新してください。`,
    );
  }
  const key = ring.get(keyId);
  if (key === undefined) {
    throw new DecryptionError(
      'unknown_key',
      `${where} はキーID "${keyId.slice(0, 32)}" で暗号化されていますが、そのキーが ALARMBOX_ENCRYPTION_KEYS にありません` +
        ` (設定中: ${ring.ids.join(', ')})。そのキーを鍵リングに戻すか、save-token で再登録してください。`,
    );
  }
  const iv = Buffer.from(ivText, 'base64url');
  const body = Buffer.from(bodyText, 'base64url');
  if (iv.length !== IV_BYTES || body.length < TAG_BYTES) {
    throw new DecryptionError(
      'malformed',
      `${where} の暗号化データの形式が壊れています。save-token で再登録してください。`,
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(keyId, at));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(body.subarray(0, body.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    // GCM authentication failed: wrong key under a reused id, a tampered value, or a value moved from another column.
    throw new DecryptionError(
      'authentication_failed',
      `${where} を復号できません (キー "${keyId}" が登録時と違うか、値が改ざん・移動されています)。` +
        '正しいキーを設定するか、save-token で再登録してください。',
    );
  }
}
