import { readConfigFile } from './bounded-file.ts';
import { ConfigError } from './errors.ts';

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

const INFO_EXAMPLE = `ALARMBOX_INFO='{"client_id":"…","client_secret":"…"}'`;

/**
 * `ALARMBOX_INFO` is the guide's `get_json_secret(...)`: the JSON secret as Secret Manager holds it.
 * Cloud Run mounts a secret either as the variable's value or as a file, so accept both.
 */
export function parseAlarmboxInfo(value: string): Partial<ClientCredentials> {
  const trimmed = value.trim();
  let text = trimmed;
  if (!trimmed.startsWith('{')) {
    const read = readConfigFile(trimmed, {
      variable: 'ALARMBOX_INFO',
      label: 'ALARMBOX_INFO のファイル',
      pathMayBeSecret: true,
      fix: `JSON そのものか、読み取れる JSON ファイルのパスを指定してください。例: ${INFO_EXAMPLE}`,
    });
    if (read === undefined) {
      throw new ConfigError(
        'ALARMBOX_INFO',
        `ALARMBOX_INFO は JSON でも JSON ファイルのパスでもありません。例: ${INFO_EXAMPLE}`,
      );
    }
    text = read;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Never echo the text: it holds the client secret.
    throw new ConfigError('ALARMBOX_INFO', `ALARMBOX_INFO の JSON を解釈できません。例: ${INFO_EXAMPLE}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(
      'ALARMBOX_INFO',
      `ALARMBOX_INFO は JSON オブジェクトにしてください。例: ${INFO_EXAMPLE}`,
    );
  }
  const info = parsed as Record<string, unknown>;
  const pick = (key: string): string | undefined => {
    const v = info[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      throw new ConfigError(
        'ALARMBOX_INFO',
        `ALARMBOX_INFO の "${key}" は文字列にしてください。例: ${INFO_EXAMPLE}`,
      );
    }
    return v;
  };
  return { clientId: pick('client_id'), clientSecret: pick('client_secret') };
}

/** The variables override `ALARMBOX_INFO`, field by field, so a developer can swap one value locally. */
export function resolveClientCredentials(
  explicit: Partial<ClientCredentials>,
  info: Partial<ClientCredentials>,
): ClientCredentials {
  const clientId = resolveClientId(explicit, info);
  const clientSecret = (explicit.clientSecret ?? info.clientSecret ?? '').trim();
  if (clientSecret === '') {
    throw new ConfigError(
      'ALARMBOX_CLIENT_SECRET',
      'ALARMBOX_CLIENT_SECRET が設定されていません。AlarmBox の API 管理画面で発行された client_secret を設定してください' +
        ` (例: ALARMBOX_CLIENT_SECRET=…、または ${INFO_EXAMPLE})。`,
    );
  }
  return { clientId, clientSecret };
}

/** The authorize URL needs only the client id: a PM can print it before the secret is at hand. */
export function resolveClientId(
  explicit: Partial<ClientCredentials>,
  info: Partial<ClientCredentials>,
): string {
  const clientId = (explicit.clientId ?? info.clientId ?? '').trim();
  if (clientId === '') {
    throw new ConfigError(
      'ALARMBOX_CLIENT_ID',
      'ALARMBOX_CLIENT_ID が設定されていません。AlarmBox の API 管理画面で発行された client_id を設定してください' +
        ` (例: ALARMBOX_CLIENT_ID=abcd1234…、または ${INFO_EXAMPLE})。`,
    );
  }
  return clientId;
}
