// Where the database setting came from, for the messages that tell a person which database was used: the CLI
// reads `.env` and a library user's app does not (README「環境変数」), so "which database?" needs the origin too.
import { resolve } from 'node:path';
import { type DatabaseSource, type DatabaseTarget, describeTarget } from './url.ts';

export type { DatabaseSource } from './url.ts';

const LABELS: Readonly<Record<DatabaseSource, string>> = {
  environment: '環境変数 DATABASE_URL',
  dotenv: '.env の DATABASE_URL (.env を読むのは CLI だけです)',
  option: 'createAlarmbox の databaseUrl オプション',
  default: 'DATABASE_URL も databaseUrl も未設定のため既定値 sqlite:.alarmbox/alarmbox.db',
  app: 'アプリが渡した接続 (createAlarmbox の database オプション)',
};

/** `postgres 127.0.0.1:5432/app (設定元: 環境変数 DATABASE_URL)`; never a password. */
export function describeDatabase(target: DatabaseTarget): string {
  const source = target.source ?? 'environment';
  // A relative SQLite path depends on the working directory (a Next standalone server runs from another
  // folder): name the file itself.
  const where =
    target.dialect === 'sqlite' && source !== 'app' && target.file !== ':memory:'
      ? `sqlite ${resolve(target.file)}`
      : describeTarget(target);
  return `${where} (設定元: ${LABELS[source]})`;
}
