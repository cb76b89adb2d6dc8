// The TLS settings of a MySQL/MariaDB or PostgreSQL DATABASE_URL, in each database's own client's words
// (libpq's sslmode/sslrootcert/sslcert/sslkey, the mysql client's ssl-mode/ssl-ca/ssl-cert/ssl-key). Every
// query parameter is either understood or refused: a setting the user wrote is never silently dropped (a
// dropped `ssl-mode=VERIFY_IDENTITY` once meant plaintext with exit 0).
import { DatabaseUrlError } from './errors.ts';
import { type PemFile, readCaFile, readClientCertificate, shown } from './pem-file.ts';

/**
 * How a connection uses TLS. `disable`: plaintext. `require`: encrypted, the server's certificate is not
 * checked. `verify-ca`: its chain must lead to a trusted CA. `verify-full`: that, and the certificate must
 * name the host of the URL.
 */
export type DatabaseTlsMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

/** The TLS settings of a server URL, with the files already read and checked. */
export interface DatabaseTls {
  readonly mode: DatabaseTlsMode;
  /** The trusted CAs; absent with verify-full: the public CAs bundled with Node.js. */
  readonly ca?: PemFile | undefined;
  /** A client certificate and its key, for servers that require one (Cloud SQL's "require trusted client certificates"). */
  readonly client?: { readonly cert: PemFile; readonly key: PemFile } | undefined;
}

/** A database client's words for the TLS parameters (what the URL and the messages say). */
interface Vocabulary {
  readonly mode: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** The accepted values of `mode`, upper-cased, and what each means. */
  readonly modes: Readonly<Record<string, DatabaseTlsMode>>;
  /** Values of `mode` that are refused with a reason. */
  readonly refusedModes: readonly string[];
  /** A value of `ca` meaning "the public CAs" (libpq 16's `sslrootcert=system`). */
  readonly systemCa?: string;
  readonly label: string;
}

export const VOCABULARIES: Readonly<Record<'mysql' | 'postgres', Vocabulary>> = {
  postgres: {
    mode: 'sslmode',
    ca: 'sslrootcert',
    cert: 'sslcert',
    key: 'sslkey',
    modes: { DISABLE: 'disable', REQUIRE: 'require', 'VERIFY-CA': 'verify-ca', 'VERIFY-FULL': 'verify-full' },
    refusedModes: ['PREFER', 'ALLOW'],
    systemCa: 'system',
    label: 'disable / require / verify-ca / verify-full',
  },
  mysql: {
    mode: 'ssl-mode',
    ca: 'ssl-ca',
    cert: 'ssl-cert',
    key: 'ssl-key',
    modes: {
      DISABLED: 'disable',
      REQUIRED: 'require',
      VERIFY_CA: 'verify-ca',
      VERIFY_IDENTITY: 'verify-full',
    },
    refusedModes: ['PREFERRED'],
    label: 'DISABLED / REQUIRED / VERIFY_CA / VERIFY_IDENTITY',
  },
};

/** Where the TLS parameters are explained (tls-errors.ts points there too). */
export const TLS_DOCS = 'docs/operations.md「データベースの TLS」';

/** Query parameters that would move the connection elsewhere than the URL's host (node-postgres honoured them). */
const ADDRESS_PARAMS = [
  'host',
  'hostaddr',
  'port',
  'socket',
  'socketpath',
  'user',
  'password',
  'dbname',
  'database',
];

/**
 * Reads the query string of a server URL. With no parameter the connection is plaintext, as before.
 * @throws DatabaseUrlError for an unknown, repeated, empty or conflicting parameter, or an unusable file;
 *   the message names the parameter (never its value, which might be a stray part of a password)
 */
export function parseTlsParams(
  search: URLSearchParams,
  dialect: 'mysql' | 'postgres',
  host: string,
): DatabaseTls {
  const words = VOCABULARIES[dialect];
  const known = [words.mode, words.ca, words.cert, words.key];
  const values = new Map<string, string>();
  for (const [name, value] of search) {
    if (!known.includes(name)) throw new DatabaseUrlError(unknownParam(name, dialect, known));
    if (values.has(name)) throw new DatabaseUrlError(`クエリパラメータ ${name} が 2 回以上指定されています`);
    if (value.trim() === '') throw new DatabaseUrlError(`クエリパラメータ ${name} の値が空です`);
    values.set(name, value.trim());
  }
  if (values.size === 0) return { mode: 'disable' };

  const modeText = values.get(words.mode);
  const caText = values.get(words.ca);
  const certText = values.get(words.cert);
  const keyText = values.get(words.key);
  if (modeText === undefined) {
    throw new DatabaseUrlError(
      `${[...values.keys()].join(', ')} を使うには ${words.mode} も指定してください (${words.label}、${TLS_DOCS})`,
    );
  }
  const mode = parseMode(modeText, words);
  if (mode === 'disable') {
    if (values.size === 1) return { mode };
    throw new DatabaseUrlError(
      `${words.mode}=${modeText} (TLS なし) と ${[...values.keys()].filter((n) => n !== words.mode).join(', ')} は同時に指定できません`,
    );
  }
  if ((certText === undefined) !== (keyText === undefined)) {
    throw new DatabaseUrlError(`${words.cert} と ${words.key} は両方とも指定してください`);
  }
  // A CA that would not be used is a setting dropped: refuse it instead (libpq would quietly verify the chain
  // under sslmode=require, the mysql client would not: say which one is meant).
  if (caText !== undefined && mode === 'require') {
    throw new DatabaseUrlError(
      `${words.ca} を指定するときは ${words.mode}=${modeName(words, 'verify-full')} (推奨) か ${modeName(words, 'verify-ca')} にしてください (${words.mode}=${modeName(words, 'require')} は証明書を検証しません)`,
    );
  }
  // mysql2 checks the name only when it sends SNI, which RFC 6066 forbids for an IP address: Node then
  // compares the certificate with "localhost". Refused rather than checked against the wrong name.
  // node:net on first use: importing it at start costs every cold start (docs/design.md「起動の速さ」).
  if (
    mode === 'verify-full' &&
    dialect === 'mysql' &&
    process.getBuiltinModule('node:net').isIP(host) !== 0
  ) {
    throw new DatabaseUrlError(
      `ssl-mode=VERIFY_IDENTITY では、ホストに IP アドレスではなく証明書に載っているホスト名を書いてください (MySQL のドライバ mysql2 は IP アドレスを証明書と照合できません)。IP アドレスで接続する場合は ssl-mode=VERIFY_CA を使ってください`,
    );
  }
  const systemCa = caText !== undefined && caText === words.systemCa;
  if (mode === 'verify-ca' && (caText === undefined || systemCa)) {
    // Any certificate a public CA issued to anyone would pass a chain-only check against the public CAs.
    throw new DatabaseUrlError(
      `${words.mode}=${modeName(words, 'verify-ca')} には ${words.ca} (データベースの CA 証明書のファイル) が必要です`,
    );
  }
  const ca = caText === undefined || systemCa ? undefined : readCaFile(words.ca, caText);
  const client =
    certText === undefined || keyText === undefined
      ? undefined
      : readClientCertificate(words.cert, certText, words.key, keyText);
  return { mode, ca, client };
}

function parseMode(text: string, words: Vocabulary): DatabaseTlsMode {
  const upper = text.toUpperCase();
  const mode = words.modes[upper];
  if (mode !== undefined) return mode;
  if (words.refusedModes.includes(upper)) {
    throw new DatabaseUrlError(
      `${words.mode}=${text} は TLS を使えないとき黙って平文に切り替わるため使えません。${modeName(words, 'verify-full')} (推奨) か ${modeName(words, 'require')} を指定してください`,
    );
  }
  throw new DatabaseUrlError(`${words.mode} の値が正しくありません (${words.label} のいずれか、${TLS_DOCS})`);
}

/** The value of the mode parameter that means `mode`, as this client spells it (`verify-full`, `VERIFY_IDENTITY`). */
export function modeName(words: Vocabulary, mode: DatabaseTlsMode): string {
  const name = Object.entries(words.modes).find(([, m]) => m === mode)?.[0] ?? mode;
  return words.mode === 'sslmode' ? name.toLowerCase() : name;
}

function unknownParam(name: string, dialect: 'mysql' | 'postgres', known: readonly string[]): string {
  // Only a name that looks like one is repeated: a stray `?` in a password puts part of it here.
  const safe = /^[A-Za-z][A-Za-z0-9_.-]{0,39}$/.test(name) ? `"${shown(name)}" ` : '';
  if (ADDRESS_PARAMS.includes(name.toLowerCase())) {
    return `クエリパラメータ ${safe}は使えません。ホスト・ポート・ユーザー・データベース名は URL 本体 (${dialect}://ユーザー:パスワード@ホスト:ポート/データベース名) に書いてください`;
  }
  return `クエリパラメータ ${safe}には対応していません。使えるのは ${known.join(', ')} です (${TLS_DOCS})。パスワードに ? や # を含む場合はパーセントエンコードしてください`;
}
