import { DatabaseUrlError } from './errors.ts';
import { type DatabaseTls, parseTlsParams } from './tls-params.ts';

/** The kinds of database the toolkit runs on (MariaDB counts as `mysql`). */
export type DatabaseDialect = 'sqlite' | 'mysql' | 'postgres';

/**
 * Where the database setting came from (src/db/source.ts names it in messages). `environment`: DATABASE_URL of
 * the process environment; `dotenv`: DATABASE_URL from `.env` (the CLI only); `option`: createAlarmbox's
 * `databaseUrl`; `default`: nothing was set; `app`: createAlarmbox's `database`.
 */
export type DatabaseSource = 'environment' | 'dotenv' | 'option' | 'default' | 'app';

/** A MySQL/MariaDB or PostgreSQL server as `DATABASE_URL` names it. */
export interface ServerTarget {
  readonly dialect: 'mysql' | 'postgres';
  /** The original text, with its password: the credentials are read from it. Show {@link describeTarget}. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** From the query string (`sslmode=…` / `ssl-mode=…`); `disable` when there is none. */
  readonly tls: DatabaseTls;
  /** Where the setting came from (messages say it: describeDatabase); unset: the environment. */
  readonly source?: DatabaseSource | undefined;
}

/**
 * Where the data lives, as parsed from `DATABASE_URL`. The connection is built from these fields alone:
 * nothing else of the URL reaches a driver.
 */
export type DatabaseTarget =
  | { readonly dialect: 'sqlite'; readonly file: string; readonly source?: DatabaseSource | undefined }
  | ServerTarget;

const DEFAULT_PORT = { mysql: 3306, postgres: 5432 } as const;

const SCHEMES: Record<string, 'mysql' | 'postgres'> = {
  'mysql:': 'mysql',
  'mariadb:': 'mysql',
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
};

/**
 * Parses `DATABASE_URL`: `sqlite:<path>` (relative or absolute, or `sqlite::memory:`),
 * `mysql://` / `mariadb://`, `postgres://` / `postgresql://`, with the TLS parameters of
 * docs/operations.md「データベースの TLS」 (their files are read here).
 * @throws DatabaseUrlError naming what is wrong, never echoing the URL (it may contain a password).
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const text = url.trim();
  if (text === '') throw new DatabaseUrlError('値が空です');
  if (text.startsWith('sqlite:')) return parseSqlite(text.slice('sqlite:'.length));

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new DatabaseUrlError('sqlite: / mysql:// / postgres:// のいずれかで始めてください');
  }
  const dialect = SCHEMES[`${scheme}:`];
  if (dialect === undefined) throw new DatabaseUrlError(`対応していないスキーム "${scheme}" です`);
  if (!/^[^:]+:\/\//.test(text)) throw new DatabaseUrlError(`${scheme}:// の形で書いてください`);
  return parseServerUrl(text, dialect);
}

function parseSqlite(path: string): DatabaseTarget {
  if (path === '') throw new DatabaseUrlError('sqlite: の後にファイルのパスがありません');
  // `sqlite:///x` (SQLAlchemy style) is ambiguous between "/x" and "x": refuse rather than guess.
  if (path.startsWith('//')) {
    throw new DatabaseUrlError('sqlite: の直後にファイルのパスを書いてください (sqlite:// 形式は使えません)');
  }
  return { dialect: 'sqlite', file: path };
}

function parseServerUrl(text: string, dialect: 'mysql' | 'postgres'): ServerTarget {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new DatabaseUrlError(whyUnparsable(text));
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new DatabaseUrlError('ホスト名がありません');
  const port = parsed.port === '' ? DEFAULT_PORT[dialect] : Number(parsed.port);
  if (!isPort(port)) throw new DatabaseUrlError('ポート番号が正しくありません');
  let database: string;
  try {
    database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  } catch {
    throw new DatabaseUrlError('データベース名のパーセントエンコードが正しくありません');
  }
  if (database === '') throw new DatabaseUrlError('URL の最後にデータベース名がありません');
  if (database.includes('/')) throw new DatabaseUrlError('データベース名に / は使えません');
  try {
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    throw new DatabaseUrlError('ユーザー名かパスワードのパーセントエンコードが正しくありません');
  }
  if (parsed.hash !== '') {
    throw new DatabaseUrlError('URL に # 以降は書けません。パスワードに # を含む場合は %23 にしてください');
  }
  const tls = parseTlsParams(parsed.searchParams, dialect, host);
  return { dialect, url: text, host, port, database, tls };
}

/** The user and password of a server URL, decoded (parseDatabaseUrl has checked that they decode). */
export function credentialsOf(target: ServerTarget): { readonly user: string; readonly password: string } {
  const url = new URL(target.url);
  return { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

/** The WHATWG parser does not say why it failed: look at the authority ourselves. */
function whyUnparsable(text: string): string {
  const authority = /^[^:]+:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?/.exec(text);
  const host = authority?.[1] ?? '';
  const port = authority?.[2];
  if (host === '') return 'ホスト名がありません';
  if (port !== undefined && !isPort(Number(port))) return 'ポート番号が正しくありません';
  return 'URL として解釈できません。パスワードに記号を含む場合はパーセントエンコードしてください';
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** A label for messages and logs: dialect, host, port and database, or the SQLite path. Never a password. */
export function describeTarget(target: DatabaseTarget): string {
  if (target.dialect === 'sqlite') return `sqlite ${target.file}`;
  return `${target.dialect} ${hostPort(target.host, target.port)}/${target.database}`;
}

/** `host:port` for messages, an IPv6 address in brackets (`[::1]:5432`, as in a URL). */
export function hostPort(host: string, port: number | string): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
