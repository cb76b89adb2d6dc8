import { parseEnv } from 'node:util';
import { readConfigFile } from '../../config/bounded-file.ts';
import { noteDotEnvVariables } from '../../config/dotenv-origin.ts';

/**
 * The CLI reads `.env` from the working directory; variables already set win (Node's own rule, as
 * `process.loadEnvFile` applies it). The file is read through the configuration's bounded read, not with
 * `process.loadEnvFile`, which reads whatever the path names whole (`/dev/zero`) or blocks on a FIFO; Node's
 * own parser (`util.parseEnv`) then reads the text.
 * @throws ConfigError when `.env` is not a regular file within the size cap
 */
export function loadDotEnv(path = '.env'): void {
  const text = readConfigFile(path, {
    variable: '.env',
    label: '設定ファイル',
    fix: '.env は KEY=value の行だけを書いた通常のファイルにしてください (使わない場合は削除するか名前を変えてください)。',
  });
  if (text === undefined) return;
  const set: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (process.env[name] !== undefined) continue;
    process.env[name] = value;
    set.push(name);
  }
  noteDotEnvVariables(set);
}
