// The one way the configuration reads a file (ALARMBOX_INFO's JSON file, the CLI's `.env`, the local key file).
// A path can name anything: `/dev/zero` (endless), a FIFO nobody writes to (a read, or even a plain open, that
// never returns), a directory, a socket, or a huge file. Each is refused with a configuration error at once,
// before a byte is buffered beyond the cap.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { errorCode } from '../error-code.ts';
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
 * Reads a small regular file as UTF-8. `undefined` when nothing exists at `path` (the caller decides what a
 * missing file means); anything else that is not a readable regular file within the cap is a {@link ConfigError}.
 *
 * Opened with O_NONBLOCK: opening a FIFO for reading otherwise blocks until a writer appears. The type is
 * checked on the opened descriptor (fstat), so a symlink (Kubernetes and Cloud Run mount secrets as symlinks)
 * is judged by what it points to, and nothing can swap the file between the check and the read.
 */
export function readConfigFile(path: string, source: ConfigFileSource): string | undefined {
  const maxBytes = source.maxBytes ?? CONFIG_FILE_MAX_BYTES;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    const shown = source.pathMayBeSecret === true ? '' : path;
    throw problem(source, shown, `を開けません (${errorCode(error) ?? 'unknown'})`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      throw problem(source, path, `が通常のファイルではありません (${kindOf(stats)})`);
    }
    if (stats.size > maxBytes) throw tooLarge(source, path, maxBytes);
    // Read one byte past the cap: a file that grows after fstat (or lies about its size, as /proc files do)
    // is still caught without buffering more than the cap.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, length, buffer.length - length, null);
      } catch (error) {
        throw problem(source, path, `を読めません (${errorCode(error) ?? 'unknown'})`);
      }
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw tooLarge(source, path, maxBytes);
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'ディレクトリ';
  if (stats.isFIFO()) return '名前付きパイプ (FIFO)';
  if (stats.isCharacterDevice()) return 'キャラクタデバイス';
  if (stats.isBlockDevice()) return 'ブロックデバイス';
  if (stats.isSocket()) return 'ソケット';
  return '不明な種類';
}

function tooLarge(source: ConfigFileSource, path: string, maxBytes: number): ConfigError {
  return problem(source, path, `が大きすぎます (上限 ${Math.floor(maxBytes / 1024)} KiB)`);
}

function problem(source: ConfigFileSource, path: string, what: string): ConfigError {
  const where = path === '' ? source.label : `${source.label} ${path}`;
  return new ConfigError(source.variable, `${where} ${what}。${source.fix}`);
}
