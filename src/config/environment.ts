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

/** The process environment as the configuration reads it (`process.env`, or a test's record). */
export type Env = Readonly<Record<string, string | undefined>>;

/** A variable's value trimmed, or undefined when unset or blank (a blank variable counts as unset). */
export function nonBlank(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
