// Reads the PEM files named in DATABASE_URL (sslrootcert / ssl-ca, the client certificate and key) once, at
// start-up, so that a wrong path is a configuration error before anything connects, and the driver gets
// exactly the bytes that were checked.

import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';
import { readBoundedFile } from '../bounded-read.ts';
import { DatabaseUrlError } from './errors.ts';

/** A CA bundle of a managed database is at most a few hundred KiB (RDS's global bundle: ~160 KiB). */
const MAX_PEM_FILE_BYTES = 1024 * 1024;

/** A PEM file as read: its absolute path (for messages) and its text. */
export interface PemFile {
  readonly path: string;
  readonly pem: string;
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Reads trusted CA certificates (one or more `BEGIN CERTIFICATE` blocks).
 * @throws DatabaseUrlError when the file is missing, not a regular file, too big, or holds no valid certificate
 */
export function readCaFile(param: string, path: string): PemFile {
  const file = readPemFile(param, path);
  const blocks = file.pem.match(CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new DatabaseUrlError(`${param} のファイル ${shown(file.path)} に PEM 形式の証明書がありません`);
  }
  for (const block of blocks) parseCertificate(param, file.path, block);
  return file;
}

/**
 * Reads a client certificate and its private key and checks that they belong together.
 * @throws DatabaseUrlError naming the file and what is wrong with it
 */
export function readClientCertificate(
  certParam: string,
  certPath: string,
  keyParam: string,
  keyPath: string,
): { readonly cert: PemFile; readonly key: PemFile } {
  const cert = readPemFile(certParam, certPath);
  const key = readPemFile(keyParam, keyPath);
  const block = cert.pem.match(CERTIFICATE)?.[0];
  if (block === undefined) {
    throw new DatabaseUrlError(`${certParam} のファイル ${shown(cert.path)} に PEM 形式の証明書がありません`);
  }
  const x509 = parseCertificate(certParam, cert.path, block);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key.pem);
  } catch (error) {
    // An encrypted key needs a passphrase, which a URL is no place for.
    throw new DatabaseUrlError(
      `${keyParam} のファイル ${shown(key.path)} を秘密鍵として読めません (${opensslReason(error)})。暗号化されていない PEM 形式の鍵を指定してください`,
    );
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new DatabaseUrlError(`${certParam} の証明書と ${keyParam} の秘密鍵が対になっていません`);
  }
  return { cert, key };
}

function parseCertificate(param: string, path: string, block: string): X509Certificate {
  try {
    return new X509Certificate(block);
  } catch (error) {
    throw new DatabaseUrlError(
      `${param} のファイル ${shown(path)} の証明書を読めません (${opensslReason(error)})`,
    );
  }
}

// Bounded and regular files only (src/bounded-read.ts): /dev/zero, a FIFO or a directory ends at once.
function readPemFile(param: string, path: string): PemFile {
  const absolute = resolve(path);
  const read = readBoundedFile(absolute, MAX_PEM_FILE_BYTES);
  if (!read.ok) throw new DatabaseUrlError(`${param} のファイル ${shown(absolute)} ${read.problem}`);
  return { path: absolute, pem: read.text };
}

/** A path as a message shows it: no control characters, not endless. */
export function shown(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = path.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

function opensslReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'error';
}
