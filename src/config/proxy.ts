// Which forward proxy a request to AlarmBox goes through, from the usual environment variables: one decision,
// used both by the requests (src/http/fetch.ts) and by `doctor`, so that what doctor shows is what is done.
// Precedence as undici's EnvHttpProxyAgent and curl: the lower-case variable before the upper-case one, and an
// https URL falls back to the HTTP proxy when no HTTPS proxy is set. NO_PROXY entries as undici reads them:
// separated by commas or spaces, `*` for every host, `host` / `.host` / `*.host` for the host and its
// subdomains, `host:port` for that port only. Loopback is never proxied, whatever NO_PROXY says: the emulator
// and the tests run there, and a proxy would only be asked to reach back into this machine.
import { type Env, nonBlank } from './environment.ts';
import { ConfigError } from './errors.ts';

// node:net / node:tls are loaded when first needed (process.getBuiltinModule): importing them costs a cold start
// about 3 ms, and reading a token from SQLite needs neither.
function isIP(host: string): number {
  return process.getBuiltinModule('node:net').isIP(host);
}

/** The proxy a request is sent through, without its credentials for display. */
export interface ProxyServer {
  /** The full proxy URL, credentials included: for the connection only, never printed. */
  readonly url: URL;
  /** `host:port`, what messages and doctor show. */
  readonly display: string;
  /** The variable it came from, e.g. `HTTPS_PROXY`. */
  readonly variable: string;
}

/** How a request to one URL leaves this machine. */
export type ProxyRoute =
  | { readonly kind: 'proxy'; readonly proxy: ProxyServer }
  | {
      readonly kind: 'direct';
      /** Why not proxied: no proxy set, a loopback target, or NO_PROXY. */
      readonly why: 'unset' | 'loopback' | 'no_proxy';
      /** The NO_PROXY variable that excluded it (`why: 'no_proxy'`). */
      readonly variable?: string;
    };

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

/** Whether any proxy variable is set at all (then even direct requests avoid Node's own env proxy). */
export function proxyConfigured(env: Env = process.env): boolean {
  return ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'].some(
    (v) => nonBlank(env[v]) !== undefined,
  );
}

/**
 * The route of a request to `target`.
 * @throws ConfigError when the proxy variable that applies is not a usable `http://` or `https://` URL
 */
export function proxyRoute(target: URL, env: Env = process.env): ProxyRoute {
  if (isLoopback(target.hostname)) return { kind: 'direct', why: 'loopback' };
  const candidates =
    target.protocol === 'https:'
      ? ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY']
      : ['http_proxy', 'HTTP_PROXY'];
  const variable = candidates.find((v) => nonBlank(env[v]) !== undefined);
  if (variable === undefined) return { kind: 'direct', why: 'unset' };
  const noProxyVariable = ['no_proxy', 'NO_PROXY'].find((v) => nonBlank(env[v]) !== undefined);
  if (noProxyVariable !== undefined && excluded(target, env[noProxyVariable] ?? '')) {
    return { kind: 'direct', why: 'no_proxy', variable: noProxyVariable };
  }
  return { kind: 'proxy', proxy: parseProxyUrl(nonBlank(env[variable]) ?? '', variable) };
}

/** 127.0.0.0/8, ::1 and localhost (RFC 6761 §6.3: localhost names loopback). */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  // An IPv4-mapped loopback address, as the URL parser writes it: ::ffff:7f00:1.
  return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host);
}

function parseProxyUrl(value: string, variable: string): ProxyServer {
  const example = `例: ${variable}=http://proxy.example.co.jp:8080`;
  let url: URL;
  try {
    // curl and undici accept a bare `host:port`; a URL parser would read `host:` as a scheme. Say so instead.
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, `${variable} の値がプロキシの URL ではありません。${example}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new ConfigError(
      variable,
      `${variable} の値がプロキシの URL ではありません (http:// か https:// で始めてください)。${example}`,
    );
  }
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
  return { url, display: `${url.hostname}:${port}`, variable };
}

function excluded(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port === '' ? DEFAULT_PORTS[target.protocol] : Number(target.port);
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const [name, entryPort] = splitHostPort(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; `*.` and a leading dot dropped. */
function splitHostPort(entry: string): [string, number | undefined] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) return [bracketed[1] ?? '', portOf(bracketed[2])];
  if (isIP(entry) === 6) return [entry, undefined];
  const named = /^(.*?)(?::(\d+))?$/.exec(entry);
  return [(named?.[1] ?? entry).replace(/^\*?\./, ''), portOf(named?.[2])];
}

function portOf(digits: string | undefined): number | undefined {
  return digits === undefined ? undefined : Number(digits);
}
