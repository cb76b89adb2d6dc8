import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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
export function loadKeyRing(env: AlarmboxEnv, keysSpec: string | undefined, localKeyFile: string): KeyRing {
  if (keysSpec !== undefined && keysSpec.trim() !== '')
    return parseKeyRing(keysSpec, 'ALARMBOX_ENCRYPTION_KEYS');
  if (env !== 'local') {
    throw new ConfigError(
      'ALARMBOX_ENCRYPTION_KEYS',
      `ALARMBOX_ENCRYPTION_KEYS が設定されていません (ALARMBOX_ENV=${env} では必須です)。` +
        `全インスタンスで同じ値を設定してください。例: ALARMBOX_ENCRYPTION_KEYS=${KEY_RING_EXAMPLE}`,
    );
  }
  return parseKeyRing(readOrCreateKeyFile(localKeyFile), localKeyFile);
}

function readOrCreateKeyFile(path: string): string {
  const existing = readConfigFile(path, keyFileSource);
  if (existing !== undefined) return existing;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx': two processes starting at once must not each write a different key.
    writeFileSync(path, `${generateKeySpec('local1')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw keyFileError(path, error);
  }
  const created = readConfigFile(path, keyFileSource);
  if (created === undefined) throw keyFileError(path, undefined);
  return created;
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
