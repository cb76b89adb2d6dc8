import { DatabaseUrlError } from './errors.ts';

export type DatabaseDialect = 'sqlite' | 'mysql' | 'postgres';

/**
 * Where the data lives, as parsed from `DATABASE_URL`. `url` keeps the original text (with its password)
 * because the drivers need it; show people {@link describeTarget} instead.
 */
export type DatabaseTarget =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'mysql'; url: string; host: string; port: number; database: string }
  | { dialect: 'postgres'; url: string; host: string; port: number; database: string };

const DEFAULT_PORT = { mysql: 3306, postgres: 5432 } as const;

const SCHEMES: Record<string, 'mysql' | 'postgres'> = {
  'mysql:': 'mysql',
  'mariadb:': 'mysql',
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
};

/**
 * Parses `DATABASE_URL`: `sqlite:<path>` (relative or absolute, or `sqlite::memory:`),
 * `mysql://` / `mariadb://`, `postgres://` / `postgresql://`.
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

function parseServerUrl(text: string, dialect: 'mysql' | 'postgres'): DatabaseTarget {
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
  return { dialect, url: text, host, port, database };
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
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.dialect} ${host}:${target.port}/${target.database}`;
}
