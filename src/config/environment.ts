import { ConfigError } from './errors.ts';

/** `ALARMBOX_ENV`: what is allowed (a generated local key, `expire-token`) depends on it. */
export type AlarmboxEnv = 'local' | 'dev' | 'production';

export function parseAlarmboxEnv(value: string | undefined): AlarmboxEnv {
  const v = (value ?? 'local').trim();
  if (v === 'local' || v === 'dev' || v === 'production') return v;
  throw new ConfigError(
    'ALARMBOX_ENV',
    `ALARMBOX_ENV の値は使えません。local・dev・production のいずれかを指定してください (例: ALARMBOX_ENV=production)。`,
  );
}
