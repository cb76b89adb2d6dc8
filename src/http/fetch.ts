// The fetch every request to AlarmBox goes through (token endpoint, revocation, API client, doctor's probe).
//
// - An app's own `fetch` (option `fetch`) is used as given, for every request, and nothing below applies.
// - No proxy variable set: Node's global fetch, as before (no extra module is loaded).
// - A proxy variable set: npm undici's own `fetch` with a dispatcher chosen by src/config/proxy.ts (a
//   ProxyAgent tunnelling with CONNECT, or a plain Agent for loopback and NO_PROXY hosts). undici's fetch
//   and dispatcher come from the same copy: a dispatcher of another undici copy handed to Node's global fetch
//   is rejected or misbehaves across majors (nodejs/undici#4827, #5500; Node 22.14 bundles undici 6, Node 24
//   undici 7, Node 26 undici 8), and Node 22.14 has no NODE_USE_ENV_PROXY. A plain Agent for direct requests
//   also keeps Node 24's own env proxy (NODE_USE_ENV_PROXY=1) away from loopback.
// TLS goes through node:tls either way, so NODE_EXTRA_CA_CERTS and --use-system-ca apply.
import type { Dispatcher } from 'undici';
import { type ProxyRoute, proxyConfigured, proxyRoute } from '../config/proxy.ts';
import { causeChain } from '../error-code.ts';
import { OutgoingRequestError } from './errors.ts';

/** The part of `fetch` the package uses: a URL (or its string) and the usual init; answers a Response. */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** How the requests to one AlarmBox URL are made. */
export interface OutgoingFetch {
  readonly fetch: FetchLike;
  /** `custom` when the app brought its own fetch; otherwise the proxy decision. */
  readonly route: ProxyRoute | { readonly kind: 'custom' };
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The fetch for requests to `target` (ALARMBOX_BASE_URL).
 * @throws ConfigError when the proxy variable that applies is malformed
 */
export function outgoingFetch(
  target: string | URL,
  custom?: FetchLike | undefined,
  env: Env = process.env,
): OutgoingFetch {
  if (custom !== undefined) return { fetch: custom, route: { kind: 'custom' } };
  const url = new URL(target);
  const route = proxyRoute(url, env);
  if (route.kind === 'direct' && !proxyConfigured(env)) {
    return { fetch: (input, init) => explained(fetch(input, init), url, route), route };
  }
  const key = route.kind === 'proxy' ? route.proxy.url.href : 'direct';
  return {
    fetch: async (input, init) => {
      const undici = await import('undici');
      const dispatcher = dispatcherFor(key, route, undici);
      const init2 = { ...init, dispatcher } as Parameters<typeof undici.fetch>[1];
      return explained(undici.fetch(input, init2) as unknown as Promise<Response>, url, route);
    },
    route,
  };
}

/** One dispatcher per proxy for the process: its kept-alive connections serve every client. */
const dispatchers = new Map<string, Dispatcher>();

function dispatcherFor(key: string, route: ProxyRoute, undici: typeof import('undici')): Dispatcher {
  let dispatcher = dispatchers.get(key);
  if (dispatcher === undefined) {
    // ProxyAgent sends the URL's user:password as Proxy-Authorization (Basic), RFC 9110 §11.7.1.
    dispatcher = route.kind === 'proxy' ? new undici.ProxyAgent(route.proxy.url.href) : new undici.Agent();
    dispatchers.set(key, dispatcher);
  }
  return dispatcher;
}

/** Errors this machine's setup explains get a Japanese message naming the cause and the fix. */
async function explained(pending: Promise<Response>, target: URL, route: ProxyRoute): Promise<Response> {
  try {
    return await pending;
  } catch (error) {
    throw explainFailure(error, target, route) ?? error;
  }
}

/** Not sent because the connection to the proxy failed: the client only ever connects to the proxy. */
const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** OpenSSL's verify errors that mean "no trusted CA issued this chain" (Node's `err.code`). */
const UNTRUSTED_CHAIN = new Set([
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);

const CERT_OTHER = new Set(['CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

const CA_HINT =
  '社内のプロキシや検査装置が TLS を検査している場合は、その CA 証明書 (PEM) を NODE_EXTRA_CA_CERTS=/path/to/ca.pem で指定するか、OS の証明書ストアを使ってください (NODE_USE_SYSTEM_CA=1、Node 22.19 / 24.6 以降)。詳しくは docs/integration.md「プロキシと社内の CA」を参照してください。';

function explainFailure(error: unknown, target: URL, route: ProxyRoute): OutgoingRequestError | undefined {
  const all = codes(error);
  const code = all.find((c) => UNTRUSTED_CHAIN.has(c) || CERT_OTHER.has(c) || CONNECT_FAILURES.has(c));
  const host = target.host;
  if (code !== undefined && UNTRUSTED_CHAIN.has(code)) {
    return new OutgoingRequestError(
      `証明書エラー: AlarmBox (${host}) の TLS 証明書を、信頼できる認証局までたどれません (${code})。${CA_HINT}`,
      { reason: 'configuration', cause: error },
    );
  }
  if (code !== undefined && CERT_OTHER.has(code)) {
    const what =
      code === 'CERT_HAS_EXPIRED' ? '有効期限が切れています' : `名前が ${target.hostname} と一致しません`;
    return new OutgoingRequestError(
      `証明書エラー: AlarmBox (${host}) として示された TLS 証明書の${what} (${code})。ALARMBOX_BASE_URL を確認してください。${CA_HINT}`,
      { reason: 'configuration', cause: error },
    );
  }
  if (route.kind !== 'proxy') return undefined;
  const { display, variable } = route.proxy;
  const status = tunnelStatus(error);
  if (status === 407) {
    return new OutgoingRequestError(
      `プロキシ認証エラー: プロキシ ${display} が認証を求めました (407 Proxy Authentication Required)。${variable} にユーザー名とパスワードを含めてください (例: ${variable}=http://ユーザー名:パスワード@${display}、記号は URL エンコード)。`,
      { reason: 'configuration', cause: error },
    );
  }
  if (status !== undefined) {
    const denied = status === 403;
    return new OutgoingRequestError(
      `プロキシエラー: プロキシ ${display} が ${host} への接続を断りました (${status})。${denied ? `プロキシの管理者に ${host} への接続の許可を依頼するか、${variable} と NO_PROXY を確認してください。` : 'しばらくしてから再実行してください。続く場合はプロキシの管理者に確認してください。'}`,
      { reason: denied ? 'configuration' : 'temporary', cause: error },
    );
  }
  if (code !== undefined && CONNECT_FAILURES.has(code)) {
    return new OutgoingRequestError(
      `プロキシ接続エラー: プロキシ ${display} に接続できません (${code})。${variable} の値とネットワークを確認し、しばらくしてから再実行してください。AlarmBox への要求は送信されていません。`,
      { reason: 'temporary', cause: error },
    );
  }
  return undefined;
}

/** undici's ProxyAgent reports a refused CONNECT as `Proxy response (407) !== 200 when HTTP Tunneling`. */
function tunnelStatus(error: unknown): number | undefined {
  for (const e of errorsOf(error)) {
    const match = /^Proxy response \((\d{3})\)/.exec(e.message);
    if (match !== null) return Number(match[1]);
  }
  return undefined;
}

/** The system, OpenSSL and undici codes of the cause chain (`TypeError: fetch failed` wraps them). */
function codes(error: unknown): string[] {
  const found: string[] = [];
  for (const e of errorsOf(error)) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') found.push(code);
  }
  return found;
}

function errorsOf(error: unknown): Error[] {
  return causeChain(error).filter((e) => e instanceof Error);
}
