import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateKeySpec, KEY_RING_EXAMPLE, type KeyRing, parseKeyRing } from '../crypto/index.ts';
import { errorCode } from '../error-code.ts';
import { type ConfigFileSource, readConfigFile } from './bounded-file.ts';
import type { AlarmboxEnv } from './environment.ts';
import { ConfigError } from './errors.ts';

/**
 * Where the key ring comes from: `ALARMBOX_ENCRYPTION_KEYS`, or, only when `ALARMBOX_ENV=local`, a key file
 * created on first use so that a PM can try the tool without generating a key by hand.
 * Anywhere else an unset key is a start-up error: a key made up on one instance would make the row
 * unreadable for every other instance.
 */
export function loadKeyRing(
  env: AlarmboxEnv,
  keysSpec: string | undefined,
  localKeyFile: string,
  readingKeyId?: string,
): KeyRing {
  if (keysSpec !== undefined && keysSpec.trim() !== '')
    return parseKeyRing(keysSpec, 'ALARMBOX_ENCRYPTION_KEYS');
  if (env !== 'local') {
    throw new ConfigError(
      'ALARMBOX_ENCRYPTION_KEYS',
      `ALARMBOX_ENCRYPTION_KEYS が設定されていません (ALARMBOX_ENV=${env} では必須です)。` +
        `全インスタンスで同じ値を設定してください。例: ALARMBOX_ENCRYPTION_KEYS=${KEY_RING_EXAMPLE}`,
    );
  }
  return parseKeyRing(readOrCreateKeyFile(localKeyFile, readingKeyId), localKeyFile);
}

function readOrCreateKeyFile(path: string, readingKeyId: string | undefined): string {
  const existing = readConfigFile(path, keyFileSource);
  if (existing !== undefined) return existing;
  // A stored row sealed with a key this folder does not have (a server run from another directory, a lost
  // file): a new key could never open it, and would leave a second key that looks like the first.
  if (readingKeyId !== undefined) throw missingKeyFileError(path, readingKeyId);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    keepOutOfGit(dirname(path));
    // 'wx': two processes starting at once must not each write a different key.
    writeFileSync(path, `${generateKeySpec(newLocalKeyId())}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw keyFileError(path, error);
  }
  const created = readConfigFile(path, keyFileSource);
  if (created === undefined) throw keyFileError(path, undefined);
  return created;
}

/**
 * The folder of the generated key is this machine's secret: a `.gitignore` of `*` keeps it (and the SQLite file
 * beside it) out of a commit even where the project's own `.gitignore` forgot it. An existing one is left alone.
 */
function keepOutOfGit(dir: string): void {
  try {
    writeFileSync(join(dir, '.gitignore'), '# alarmbox-auth: local key and database, never commit\n*\n', {
      flag: 'wx',
      mode: 0o600,
    });
  } catch {
    // Present already, or not writable: the key file itself is what matters here, and its write reports errors.
  }
}

/**
 * `local-20261203-1a2b3c4d`: unique, so a key generated elsewhere never passes for this one (both used to be
 * `local1`, and a row sealed with one failed with 「キー "local1" が登録時と違う」 under the other).
 */
function newLocalKeyId(now = new Date()): string {
  return `local-${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
}

function missingKeyFileError(path: string, keyId: string): ConfigError {
  return new ConfigError(
    'ALARMBOX_ENCRYPTION_KEYS',
    `ローカルの暗号鍵ファイル ${path} がありません。データベースのトークンはキー ID "${keyId.slice(0, 32)}" で暗号化されているため、新しい鍵は作りません。` +
      `登録したときのフォルダの .alarmbox/encryption-keys をここに置くか、その内容を ALARMBOX_ENCRYPTION_KEYS に設定するか (作業フォルダが違う場合は dataDir オプションでも指定できます)、alarmbox save-token で登録し直してください。`,
  );
}

const keyFileSource: ConfigFileSource = {
  variable: 'ALARMBOX_ENCRYPTION_KEYS',
  label: 'ローカルの暗号鍵ファイル',
  fix: `鍵 (1 行の id:base64) だけを書いた通常のファイルにするか、ALARMBOX_ENCRYPTION_KEYS=${KEY_RING_EXAMPLE} を設定してください。`,
};

/** The local key file cannot be read or created (a directory in its place, no permission, a full disk…). */
function keyFileError(path: string, error: unknown): ConfigError {
  return new ConfigError(
    'ALARMBOX_ENCRYPTION_KEYS',
    `ローカルの暗号鍵ファイル ${path} を読み書きできません (${errorCode(error) ?? 'unknown'})。` +
      `権限と、同じ名前のディレクトリがないかを確認するか、ALARMBOX_ENCRYPTION_KEYS=${KEY_RING_EXAMPLE} を設定してください。`,
  );
}
