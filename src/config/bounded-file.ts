// How the configuration reads a file (ALARMBOX_INFO's JSON file, the CLI's `.env`, the local key file): bounded and
// regular files only (src/bounded-read.ts), each problem a configuration error naming the variable and the fix.
import { readBoundedFile } from '../bounded-read.ts';
import { ConfigError } from './errors.ts';

/** Far above any setting file (a key ring of hundreds of keys, a long `.env`); stops a wrong path read whole. */
export const CONFIG_FILE_MAX_BYTES = 256 * 1024;

/** What the file is for, so that the message names it and says what to do. */
export interface ConfigFileSource {
  /** The variable (or file name) at fault, as {@link ConfigError.variable}. */
  readonly variable: string;
  /** How the message names the file, e.g. `ALARMBOX_INFO のファイル`. */
  readonly label: string;
  /** The fix, one Japanese sentence appended to every message. */
  readonly fix: string;
  readonly maxBytes?: number;
  /**
   * The value may be a secret rather than a path (ALARMBOX_INFO holds JSON or a path): leave the path out of
   * the message until it has opened, i.e. until it is known to name something that exists.
   */
  readonly pathMayBeSecret?: boolean;
}

/**
 * Reads a small regular file as UTF-8 (src/bounded-read.ts). `undefined` when nothing exists at `path` (the caller
 * decides what a missing file means); anything else that is not a readable regular file within the cap is a
 * {@link ConfigError}.
 */
export function readConfigFile(path: string, source: ConfigFileSource): string | undefined {
  const read = readBoundedFile(path, source.maxBytes ?? CONFIG_FILE_MAX_BYTES);
  if (read.ok) return read.text;
  if (read.missing) return undefined;
  const shown = read.unopened && source.pathMayBeSecret === true ? '' : path;
  const where = shown === '' ? source.label : `${source.label} ${shown}`;
  throw new ConfigError(source.variable, `${where} ${read.problem}。${source.fix}`);
}
