import { resolve } from 'node:path';
import type { KeyRing } from '../crypto/index.ts';
import type { AlarmboxDatabase } from '../db/app-database.ts';
import type { DatabaseSource } from '../db/source.ts';
import { type DatabaseTarget, parseDatabaseUrl } from '../db/url.ts';
import type { FetchLike } from '../http/fetch.ts';
import {
  type ClientCredentials,
  parseAlarmboxInfo,
  resolveClientCredentials,
  resolveClientId,
} from './client-info.ts';
import { type DatabaseTimeouts, parseDatabaseTimeouts } from './database-timeouts.ts';
import { cameFromDotEnv } from './dotenv-origin.ts';
import { type AlarmboxEnv, type Env, nonBlank, parseAlarmboxEnv } from './environment.ts';
import { ConfigError } from './errors.ts';
import { loadKeyRing } from './key-source.ts';

const DEFAULT_BASE_URL = 'https://api.alarmbox.jp';
/** RFC 8252 §7.1 deprecates OOB, but it is what AlarmBox's (Doorkeeper's) native flow offers. */
export const OOB_REDIRECT_URI = 'urn:ietf:wg:oauth:2.0:oob';
export const DEFAULT_SCOPE = 'read customer:delete customer:create credit_check:create';
const DEFAULT_DATABASE_URL = 'sqlite:.alarmbox/alarmbox.db';
/** The guide's `requests` timeout. */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;
/** AlarmBox's documented example lifetime; used only when a token response carries no `expires_in`. */
const DEFAULT_FALLBACK_EXPIRES_IN = 86_400;

/** What `createAlarmbox(options)` accepts; every field overrides its environment variable. */
export interface AlarmboxOptions {
  readonly env?: AlarmboxEnv;
  /** `DATABASE_URL` for this instance. Not together with `database`. */
  readonly databaseUrl?: string;
  /**
   * A connection the app already holds: `{ postgres: pool }` (pg), `{ mysql: pool }` (mysql2), or
   * `{ kysely: db, dialect }`. It stays the app's: `close()` leaves it open. Not together with `databaseUrl`.
   */
  readonly database?: AlarmboxDatabase;
  /**
   * How long to wait for MySQL / PostgreSQL, in ms: `connectTimeoutMs` (default 5000, env
   * `ALARMBOX_DB_CONNECT_TIMEOUT_MS`; a pool passed in `database` keeps its own) and `queryTimeoutMs`
   * (default 10000, env `ALARMBOX_DB_QUERY_TIMEOUT_MS`; also applied to each query on a passed pool).
   */
  readonly databaseTimeouts?: Partial<DatabaseTimeouts>;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly baseUrl?: string;
  readonly redirectUri?: string;
  readonly scope?: string;
  /** Key ring `id:base64-32-bytes,…`; the first key encrypts. */
  readonly encryptionKeys?: string;
  readonly httpTimeoutMs?: number;
  /** Seconds a token is assumed to live when the token response omits `expires_in`. */
  readonly fallbackExpiresIn?: number;
  /** How long a refresh waits for another process's refresh before failing as temporary (exit 5). */
  readonly lockWaitMs?: number;
  /** Where `local` keeps its generated key file. Default `.alarmbox`. */
  readonly dataDir?: string;
  /**
   * The app's own fetch for every request to AlarmBox (token endpoint, revocation, API); then HTTPS_PROXY /
   * NO_PROXY are not applied (docs/integration.md「プロキシと社内の CA」).
   */
  readonly fetch?: FetchLike;
}

export interface AlarmboxConfig {
  readonly env: AlarmboxEnv;
  readonly database: DatabaseTarget;
  /** Where {@link AlarmboxConfig.database} came from, for messages. */
  readonly databaseSource: DatabaseSource;
  /** The connection the app passed (`createAlarmbox({ database })`), if any. */
  readonly appDatabase: AlarmboxDatabase | undefined;
  /** How long to wait for MySQL / PostgreSQL (`ALARMBOX_DB_CONNECT_TIMEOUT_MS`, `ALARMBOX_DB_QUERY_TIMEOUT_MS`). */
  readonly databaseTimeouts: DatabaseTimeouts;
  /** Without a trailing slash, e.g. `https://api.alarmbox.jp`. */
  readonly baseUrl: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly httpTimeoutMs: number;
  readonly fallbackExpiresIn: number;
  readonly lockWaitMs: number;
  readonly localKeyFile: string;
  /** The app's own fetch (option `fetch`), or undefined for the package's (which honours HTTPS_PROXY). */
  readonly fetch: FetchLike | undefined;
  /** The client id alone (for the authorize URL); throws {@link ConfigError} when not configured. */
  clientId(): string;
  /** The client credentials; throws {@link ConfigError} when they are not configured. */
  credentials(): ClientCredentials;
  /**
   * The encryption key ring, loaded (and in `local` created) on first use. `readingKeyId`: the key id of the
   * stored envelope about to be opened; then a missing local key file is an error, never a new key.
   */
  keyRing(readingKeyId?: string): KeyRing;
}

/**
 * Reads and validates the configuration. Malformed values fail here, at start-up; values that only some
 * commands need (client credentials, the key ring) fail when first asked for, so `migrate` and `status`
 * work before AlarmBox credentials exist.
 */
export function loadConfig(options: AlarmboxOptions = {}, env: Env = process.env): AlarmboxConfig {
  const alarmboxEnv = options.env ?? parseAlarmboxEnv(env.ALARMBOX_ENV);
  const database = resolveDatabase(options, env);
  const databaseTimeouts = parseDatabaseTimeouts(env, options.databaseTimeouts);
  const baseUrl = parseBaseUrl(nonBlank(options.baseUrl ?? env.ALARMBOX_BASE_URL) ?? DEFAULT_BASE_URL);
  const redirectUri = parseRedirectUri(
    nonBlank(options.redirectUri ?? env.ALARMBOX_REDIRECT_URI) ?? OOB_REDIRECT_URI,
  );
  const scope = parseScope(options.scope ?? env.ALARMBOX_SCOPE ?? DEFAULT_SCOPE, 'ALARMBOX_SCOPE');
  const httpTimeoutMs = boundedSetting(
    BOUNDS.httpTimeoutMs,
    options.httpTimeoutMs,
    env,
    DEFAULT_HTTP_TIMEOUT_MS,
  );
  const fallbackExpiresIn = boundedSetting(
    BOUNDS.fallbackExpiresIn,
    options.fallbackExpiresIn,
    env,
    DEFAULT_FALLBACK_EXPIRES_IN,
  );
  // A peer's refresh takes at most one HTTP timeout: wait for that, and never less than the guide's 30 s.
  const lockWaitMs = boundedSetting(
    BOUNDS.lockWaitMs,
    options.lockWaitMs,
    env,
    Math.max(DEFAULT_HTTP_TIMEOUT_MS, httpTimeoutMs + 5_000),
  );
  const info = nonBlank(env.ALARMBOX_INFO) === undefined ? {} : parseAlarmboxInfo(env.ALARMBOX_INFO ?? '');
  const explicit = {
    clientId: nonBlank(options.clientId ?? env.ALARMBOX_CLIENT_ID),
    clientSecret: nonBlank(options.clientSecret ?? env.ALARMBOX_CLIENT_SECRET),
  };
  const keysSpec = options.encryptionKeys ?? env.ALARMBOX_ENCRYPTION_KEYS;
  // Absolute from the start: messages name it, and a server started from another folder (Next standalone)
  // must be told where its key was looked for.
  const localKeyFile = resolve(options.dataDir ?? '.alarmbox', 'encryption-keys');

  let ring: KeyRing | undefined;
  return {
    env: alarmboxEnv,
    database,
    databaseSource: database.source,
    appDatabase: options.database,
    databaseTimeouts,
    baseUrl,
    redirectUri,
    scope,
    httpTimeoutMs,
    fallbackExpiresIn,
    lockWaitMs,
    localKeyFile,
    fetch: options.fetch,
    clientId: () => resolveClientId(explicit, info),
    credentials: () => resolveClientCredentials(explicit, info),
    keyRing: (readingKeyId) => {
      ring ??= loadKeyRing(alarmboxEnv, keysSpec, localKeyFile, readingKeyId);
      return ring;
    },
  };
}

/** Where the token table lives, and which setting said so (`status` and `doctor` show it). */
function resolveDatabase(
  options: AlarmboxOptions,
  env: Env,
): DatabaseTarget & { readonly source: DatabaseSource } {
  if (options.database !== undefined && options.databaseUrl !== undefined) {
    throw new ConfigError(
      'databaseUrl',
      'createAlarmbox には database (アプリの接続) と databaseUrl のどちらか一方だけを指定してください。',
    );
  }
  const optionUrl = nonBlank(options.databaseUrl);
  const envUrl = nonBlank(env.DATABASE_URL);
  const databaseSource: DatabaseSource =
    options.database !== undefined
      ? 'app'
      : optionUrl !== undefined
        ? 'option'
        : envUrl === undefined
          ? 'default'
          : cameFromDotEnv('DATABASE_URL')
            ? 'dotenv'
            : 'environment';
  // With an app's connection the URL is not used; what it parses to only labels the default.
  return {
    ...parseDatabaseUrl(
      options.database === undefined ? (optionUrl ?? envUrl ?? DEFAULT_DATABASE_URL) : DEFAULT_DATABASE_URL,
    ),
    source: databaseSource,
  };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Tokens and the client secret cross this connection: plain HTTP only to the emulator on this machine. */
export function isSecureBaseUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

export const INSECURE_BASE_URL_MESSAGE = `ALARMBOX_BASE_URL は https:// で指定してください (http:// はこのマシン上のエミュレータだけに使えます)。例: ALARMBOX_BASE_URL=${DEFAULT_BASE_URL}`;

function parseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      'ALARMBOX_BASE_URL',
      `ALARMBOX_BASE_URL の値が URL ではありません。例: ALARMBOX_BASE_URL=${DEFAULT_BASE_URL}`,
    );
  }
  if (!isSecureBaseUrl(url)) throw new ConfigError('ALARMBOX_BASE_URL', INSECURE_BASE_URL_MESSAGE);
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError(
      'ALARMBOX_BASE_URL',
      `ALARMBOX_BASE_URL にはクエリ・フラグメント・認証情報を含めないでください。例: ALARMBOX_BASE_URL=${DEFAULT_BASE_URL}`,
    );
  }
  return url.href.replace(/\/+$/, '');
}

function parseRedirectUri(value: string): string {
  if (value === OOB_REDIRECT_URI) return value;
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return value;
  } catch {
    // fall through to the message
  }
  throw new ConfigError(
    'ALARMBOX_REDIRECT_URI',
    `ALARMBOX_REDIRECT_URI の値はリダイレクト URI として使えません。AlarmBox に登録したリダイレクト URI を指定してください (例: ALARMBOX_REDIRECT_URI=${OOB_REDIRECT_URI})。`,
  );
}

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by single spaces.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function parseScope(value: string, variable: string): string {
  const tokens = value.trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 0 || !tokens.every((t) => SCOPE_TOKEN.test(t))) {
    throw new ConfigError(
      variable,
      `${variable} が正しくありません。スコープを空白区切りで指定してください (例: ${variable}="${DEFAULT_SCOPE}")。`,
    );
  }
  return tokens.join(' ');
}

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer delay silently becomes 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

interface Bound {
  readonly variable: string;
  readonly max: number;
  /** Why the bound is what it is, for the message. */
  readonly why: string;
}

/**
 * What each duration setting may be. The HTTP timeout is also what a stop signal waits for at most, and the
 * refresh lease lasts three of them (a timer too); the fallback lifetime must give a valid expiry.
 */
export const BOUNDS = {
  httpTimeoutMs: {
    variable: 'ALARMBOX_HTTP_TIMEOUT_MS',
    max: 600_000,
    why: '停止の合図を受けたときはこの時間まで応答を待つため、10 分 (600000) 以下にしてください',
  },
  lockWaitMs: {
    variable: 'ALARMBOX_LOCK_WAIT_MS',
    max: MAX_TIMER_MS,
    why: 'Node.js のタイマーが扱える最大値 (2147483647 ミリ秒、約 24.8 日) 以下にしてください',
  },
  fallbackExpiresIn: {
    variable: 'ALARMBOX_FALLBACK_EXPIRES_IN',
    max: 366 * 86_400,
    why: 'アクセストークンの有効期限として信用できる最大値 (366 日 = 31622400 秒) 以下にしてください',
  },
} as const satisfies Record<string, Bound>;

/** The option if given, else the variable, else `fallback`; then within the bound. */
function boundedSetting(bound: Bound, option: number | undefined, env: Env, fallback: number): number {
  return withinBound(option ?? parsePositiveInt(env[bound.variable], bound.variable, fallback), bound);
}

function withinBound(value: number, bound: Bound): number {
  if (!Number.isSafeInteger(value) || value <= 0 || value > bound.max) {
    throw new ConfigError(
      bound.variable,
      `${bound.variable} の値 ${String(value).slice(0, 24)} は範囲外です。1 以上 ${bound.max} 以下の整数で指定してください (${bound.why})。`,
    );
  }
  return value;
}

function parsePositiveInt(value: string | undefined, variable: string, fallback: number): number {
  const v = nonBlank(value);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) <= 0 || !Number.isSafeInteger(Number(v))) {
    throw new ConfigError(
      variable,
      `${variable} は正の整数で指定してください (例: ${variable}=${fallback})。`,
    );
  }
  return Number(v);
}
