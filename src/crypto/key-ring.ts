import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { KeyRingFormatError } from './errors.ts';

/** AES-256 needs exactly 32 bytes of key. */
const KEY_BYTES = 32;
/** Key ids travel inside every envelope: short, and free of the envelope's separator. */
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$|^[A-Za-z0-9_-]+$/;

export interface EncryptionKey {
  readonly id: string;
  readonly key: KeyObject;
}

/**
 * Keys by id. The first key encrypts; every key decrypts, so a key can be added, the row re-encrypted
 * (`rekey`), and the old key removed without a moment where the stored row is unreadable.
 */
export interface KeyRing {
  readonly primary: EncryptionKey;
  readonly ids: readonly string[];
  get(id: string): KeyObject | undefined;
}

export const KEY_RING_EXAMPLE = 'k1:<32 バイトの base64。例: openssl rand -base64 32 の出力>';

function createKeyRing(keys: readonly EncryptionKey[]): KeyRing {
  const [primary] = keys;
  if (primary === undefined) throw new KeyRingFormatError('暗号化キーが 1 つもありません。');
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  return { primary, ids: keys.map((k) => k.id), get: (id) => byId.get(id) };
}

/**
 * Parses `id:base64-32-bytes,id2:…`. Every message names the fault and never echoes key material.
 * @param source what to name in messages, e.g. `ALARMBOX_ENCRYPTION_KEYS`
 */
export function parseKeyRing(spec: string, source: string): KeyRing {
  const fix = `${source} は「キーID:32バイトのbase64」をカンマ区切りで指定してください (例: ${KEY_RING_EXAMPLE})。`;
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.length === 0) throw new KeyRingFormatError(`${source} が空です。${fix}`);
  const keys: EncryptionKey[] = [];
  for (const [index, entry] of entries.entries()) {
    const position = `${index + 1} 番目のキー`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new KeyRingFormatError(`${source} の${position}にキーIDがありません。${fix}`);
    const id = entry.slice(0, colon);
    const material = entry.slice(colon + 1);
    if (!KEY_ID.test(id)) {
      throw new KeyRingFormatError(
        `${source} の${position}のキーIDが不正です (英数字・_・- の 1〜32 文字)。${fix}`,
      );
    }
    if (keys.some((k) => k.id === id)) {
      throw new KeyRingFormatError(`${source} でキーID "${id}" が重複しています。${fix}`);
    }
    if (!BASE64.test(material)) {
      throw new KeyRingFormatError(`${source} のキー "${id}" が base64 ではありません。${fix}`);
    }
    const bytes = Buffer.from(
      material,
      material.includes('-') || material.includes('_') ? 'base64url' : 'base64',
    );
    if (bytes.length !== KEY_BYTES) {
      throw new KeyRingFormatError(
        `${source} のキー "${id}" が ${bytes.length} バイトです。AES-256 には 32 バイトが必要です。${fix}`,
      );
    }
    keys.push({ id, key: createSecretKey(bytes) });
  }
  return createKeyRing(keys);
}

/** A fresh `id:base64` entry, for the local key file and for operators rotating keys. */
export function generateKeySpec(id: string): string {
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}
