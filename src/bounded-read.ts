// The one way the package reads a file that a setting names (ALARMBOX_INFO's file, the CLI's `.env`, the local key
// file, DATABASE_URL's CA and client certificate). A path can name anything: `/dev/zero` (endless), a FIFO nobody
// writes to (a read, or even a plain open, that never returns), a directory, a socket, or a huge file. Each ends at
// once, before a byte is buffered beyond the cap; the caller turns the answer into its own typed error.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { errorCode } from './error-code.ts';

/** The text of the file, or why there is none: `problem` completes 「<the file> …」 in Japanese. */
export type BoundedRead =
  | { readonly ok: true; readonly text: string }
  | {
      readonly ok: false;
      /** Nothing exists at the path (ENOENT). */
      readonly missing: boolean;
      /** The path could not even be opened: it is not known to name anything (ALARMBOX_INFO may be a secret). */
      readonly unopened: boolean;
      readonly problem: string;
    };

/**
 * Reads a small regular file as UTF-8, at most `maxBytes`.
 *
 * Opened with O_NONBLOCK: opening a FIFO for reading otherwise blocks until a writer appears. The type is checked
 * on the opened descriptor (fstat), so a symlink (Kubernetes and Cloud Run mount secrets as symlinks) is judged by
 * what it points to, and nothing can swap the file between the check and the read.
 */
export function readBoundedFile(path: string, maxBytes: number): BoundedRead {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = errorCode(error);
    const problem =
      code === 'ENOENT'
        ? 'が見つかりません'
        : code === 'EACCES'
          ? 'を読む権限がありません'
          : `を開けません (${code ?? 'unknown'})`;
    return { ok: false, missing: code === 'ENOENT', unopened: true, problem };
  }
  const fail = (problem: string): BoundedRead => ({ ok: false, missing: false, unopened: false, problem });
  const tooLarge = `が大きすぎます (上限 ${Math.floor(maxBytes / 1024)} KiB)`;
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return fail(`が通常のファイルではありません (${kindOf(stats)})`);
    if (stats.size > maxBytes) return fail(tooLarge);
    // One byte past the cap: a file that grows after fstat (or lies about its size, as /proc files do) is still
    // caught without buffering more than the cap.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, length, buffer.length - length, null);
      } catch (error) {
        return fail(`を読めません (${errorCode(error) ?? 'unknown'})`);
      }
      if (n === 0) break;
      length += n;
      if (length > maxBytes) return fail(tooLarge);
    }
    return { ok: true, text: buffer.toString('utf8', 0, length) };
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
