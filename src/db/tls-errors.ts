// What a TLS or certificate failure of a database connection means, from Node's and OpenSSL's errors as the
// drivers pass them on. pg hands them over as they are; mysql2 overwrites their code with HANDSHAKE_SSL_ERROR
// but keeps the message, so both the code and the message's wording are looked at.
import { causeChain } from '../error-code.ts';
import { DatabaseUnavailableError } from './errors.ts';
import { modeName, TLS_DOCS, VOCABULARIES } from './tls-params.ts';

/**
 * The TLS connection to the database failed: a certificate for another name, an unknown CA, an expired
 * certificate, a server without TLS, or one that insists on it. Always `configuration`: a person must fix the
 * URL or the server. `code` is Node's / OpenSSL's (`ERR_TLS_CERT_ALTNAME_INVALID`, `SELF_SIGNED_CERT_IN_CHAIN`…)
 * or the driver's.
 */
// Keeps the name DatabaseUnavailableError: to an application it is one (reason configuration).
export class DatabaseTlsError extends DatabaseUnavailableError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super('configuration', code, message, options);
  }
}

/** The kinds of problem, each with its own fix. */
export type TlsProblem = 'name' | 'unknown_ca' | 'validity' | 'certificate' | 'no_tls' | 'handshake' | 'pem';

export interface TlsFailure {
  readonly problem: TlsProblem;
  readonly code: string;
  /** Node's English explanation (no secret: names and certificate facts), one line, bounded. */
  readonly detail: string;
}

const CODES: Readonly<Record<string, TlsProblem>> = {
  ERR_TLS_CERT_ALTNAME_INVALID: 'name',
  HOSTNAME_MISMATCH: 'name',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown_ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown_ca',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown_ca',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown_ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown_ca',
  CERT_UNTRUSTED: 'unknown_ca',
  CERT_HAS_EXPIRED: 'validity',
  CERT_NOT_YET_VALID: 'validity',
  CERT_SIGNATURE_FAILURE: 'certificate',
  CERT_REVOKED: 'certificate',
  CERT_REJECTED: 'certificate',
  INVALID_CA: 'certificate',
  INVALID_PURPOSE: 'certificate',
  PATH_LENGTH_EXCEEDED: 'certificate',
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'certificate',
  ERR_TLS_CERT_SIGNATURE_ALGORITHM_UNSUPPORTED: 'certificate',
  HANDSHAKE_NO_SSL_SUPPORT: 'no_tls',
  EPROTO: 'handshake',
  HANDSHAKE_SSL_ERROR: 'handshake',
};

const MESSAGES: readonly [RegExp, TlsProblem][] = [
  [/does not match certificate's altnames|is not in the cert's (list|altnames)/i, 'name'],
  [
    /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate/i,
    'unknown_ca',
  ],
  [/certificate has expired|certificate is not yet valid/i, 'validity'],
  [/does not support SSL connections|does not support secure connection/i, 'no_tls'],
  [/error establishing an SSL connection/i, 'handshake'],
];

/** The TLS failure in `error` or its causes, or undefined when it is none. */
export function tlsFailureOf(error: unknown): TlsFailure | undefined {
  for (const link of causeChain(error, 4)) {
    const found = link instanceof Error ? ownFailure(link) : undefined;
    if (found !== undefined) return found;
  }
  return undefined;
}

function ownFailure(error: Error): TlsFailure | undefined {
  const code = (error as { code?: unknown }).code;
  const codeText = typeof code === 'string' ? code : undefined;
  const byMessage = MESSAGES.find(([pattern]) => pattern.test(error.message))?.[1];
  // The message is more precise than mysql2's catch-all HANDSHAKE_SSL_ERROR.
  const byCode = codeText === undefined ? undefined : codeProblem(codeText);
  const problem = byCode === 'handshake' ? (byMessage ?? byCode) : (byCode ?? byMessage);
  if (problem === undefined) return undefined;
  return { problem, code: codeText ?? 'TLS', detail: oneLine(error.message) };
}

function codeProblem(code: string): TlsProblem | undefined {
  const known = CODES[code];
  if (known !== undefined) return known;
  if (code.startsWith('ERR_OSSL_PEM') || code.startsWith('ERR_OSSL_X509')) return 'pem';
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'handshake';
  return undefined;
}

function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/** The Japanese message of a TLS failure talking to `server` (host:port). */
export function tlsFailureMessage(
  failure: TlsFailure,
  server: string,
  dialect: 'mysql' | 'postgres',
): string {
  const w = VOCABULARIES[dialect];
  const cause = `${failure.code}: ${failure.detail}`;
  switch (failure.problem) {
    case 'name':
      return `データベースサーバー ${server} の TLS 証明書に、DATABASE_URL のホスト名が載っていません (${cause})。証明書に載っている名前 (Cloud SQL ならインスタンスの DNS 名) を DATABASE_URL のホストにするか、その名前で証明書を発行し直してください。CA だけを検証してよい場合は ${w.mode}=${modeName(w, 'verify-ca')} も使えます (${TLS_DOCS})。`;
    case 'unknown_ca':
      return `データベースサーバー ${server} の TLS 証明書を発行した CA が信頼されていません (${cause})。そのサーバーの CA 証明書のファイル (Cloud SQL: server-ca.pem、Amazon RDS: global-bundle.pem) を ${w.ca} に指定してください (${TLS_DOCS})。`;
    case 'validity':
      return `データベースサーバー ${server} の TLS 証明書が有効期間外です (${cause})。サーバーの証明書を更新してください。このマシンの時計がずれていないかも確認してください (${TLS_DOCS})。`;
    case 'certificate':
      return `データベースサーバー ${server} の TLS 証明書を検証できません (${cause})。サーバーの証明書と ${w.ca} の CA 証明書を確認してください (${TLS_DOCS})。`;
    case 'no_tls':
      return `データベースサーバー ${server} は TLS に対応していません (${cause})。サーバーで TLS を有効にしてください (DATABASE_URL から ${w.mode} を外すと暗号化せずに接続しますが、推奨しません。${TLS_DOCS})。`;
    case 'handshake':
      return `データベースサーバー ${server} と TLS で接続できません (${cause})。サーバーの TLS 設定と DATABASE_URL の ${w.mode} を確認してください (${TLS_DOCS})。`;
    case 'pem':
      return `データベースサーバー ${server} への TLS 接続に使う証明書か鍵のファイルを読めません (${cause})。DATABASE_URL の ${w.ca} などに PEM 形式のファイルを指定してください (${TLS_DOCS})。`;
  }
}

/** The Japanese message when the server refuses a plaintext connection. */
export function tlsRequiredMessage(server: string, dialect: 'mysql' | 'postgres', code: string): string {
  const w = VOCABULARIES[dialect];
  return `データベースサーバー ${server} は TLS での接続しか受け付けません (${code})。DATABASE_URL に ?${w.mode}=${modeName(w, 'verify-full')}&${w.ca}=<CA 証明書のファイル> を付けてください (${TLS_DOCS})。`;
}

/**
 * MariaDB answers a plaintext client under `require_secure_transport` with a plain "Access denied"
 * (ER_ACCESS_DENIED_ERROR, measured on 10.11): said alongside the authentication message when the URL has no TLS.
 */
export function plaintextAuthHint(): string {
  return `サーバーが TLS を必須にしている場合 (MariaDB の require_secure_transport) もこのエラーになります。その場合は DATABASE_URL に ?ssl-mode=VERIFY_IDENTITY&ssl-ca=<CA 証明書のファイル> を付けてください (${TLS_DOCS})。`;
}
