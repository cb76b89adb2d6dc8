// The one table of AlarmBox API paths. AlarmBox documents none of them publicly; the credit-check rows come
// from integrators (docs/design.md「AlarmBox について分かっていること」) and may be wrong for your contract, so every row can be
// corrected, and rows for the other features (monitoring, guarantee, …) added, without touching the client.

/** The HTTP methods the endpoint table uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

import { AlarmboxError } from '../errors.ts';

/** One row of the endpoint table: method and path of an AlarmBox API endpoint. */
export interface EndpointSpec {
  readonly method: HttpMethod;
  /** Path template on the base URL; `{name}` placeholders are filled (percent-encoded) from `params`. */
  readonly path: string;
  /** The OAuth scope the endpoint requires: named in the 403 message, so a person knows what to request. */
  readonly scope: string;
}

/** Endpoints the client itself calls. */
export const DEFAULT_ENDPOINTS = {
  /** パワーサーチ 信用チェックの購入 (費用が発生します) */
  createCreditCheck: { method: 'POST', path: '/ps/v1/credit_checks', scope: 'credit_check:create' },
  /**
   * 購入済み信用チェックの取得. The scope is a guess (nothing documents it): `read`, the scope AlarmBox's
   * integrators request for reading.
   */
  getCreditCheck: { method: 'GET', path: '/ps/v1/credit_checks/{id}', scope: 'read' },
} as const satisfies Readonly<Record<string, EndpointSpec>>;

/** The names of the endpoints in {@link DEFAULT_ENDPOINTS}. */
export type DefaultEndpointName = keyof typeof DEFAULT_ENDPOINTS;

/** The table a client works with: the defaults (each correctable) plus any rows a user adds. */
export type EndpointTable = Readonly<Record<DefaultEndpointName, EndpointSpec>> &
  Readonly<Record<string, EndpointSpec>>;

/** What `createAlarmboxApi({ endpoints })` accepts: corrections of default rows and new rows. */
export type EndpointOverrides = {
  readonly [K in DefaultEndpointName]?: Partial<EndpointSpec>;
} & Readonly<Record<string, Partial<EndpointSpec>>>;

const METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Merges `overrides` into the defaults and checks every row, so a typo fails at start-up, not mid-purchase. */
export function resolveEndpoints(overrides: EndpointOverrides = {}): EndpointTable {
  const table: Record<string, EndpointSpec> = { ...DEFAULT_ENDPOINTS };
  for (const [name, override] of Object.entries(overrides)) {
    const merged = { ...table[name], ...override };
    if (merged.method === undefined || merged.path === undefined || merged.scope === undefined) {
      throw new AlarmboxError(
        `endpoints.${name} には method・path・scope をすべて指定してください (例: { method: 'GET', path: '/ps/v1/credit_checks/{id}', scope: 'read' })。`,
        { reason: 'configuration' },
      );
    }
    table[name] = checkEndpoint(name, merged as EndpointSpec);
  }
  return table as EndpointTable;
}

function checkEndpoint(name: string, spec: EndpointSpec): EndpointSpec {
  if (!METHODS.includes(spec.method)) {
    throw new AlarmboxError(
      `endpoints.${name}.method は ${METHODS.join(' / ')} のいずれかで指定してください。`,
      { reason: 'configuration' },
    );
  }
  // A relative path only: the bearer token must never be sent to another origin (RFC 6750 §5.3).
  if (!isRelativePath(spec.path)) {
    throw new AlarmboxError(
      `endpoints.${name}.path は / で始まるパスで指定してください (例: /ps/v1/credit_checks)。別のホストは指定できません。`,
      { reason: 'configuration' },
    );
  }
  if (spec.scope.trim() === '' || /\s/.test(spec.scope.trim())) {
    throw new AlarmboxError(`endpoints.${name}.scope にはスコープを 1 つ指定してください (例: read)。`, {
      reason: 'configuration',
    });
  }
  return { method: spec.method, path: spec.path, scope: spec.scope.trim() };
}

/** `/a/b` but not `//host/…` (scheme-relative) nor `http://…`. */
export function isRelativePath(path: string): boolean {
  return path.startsWith('/') && !path.startsWith('//') && !path.includes('\\');
}

/** The path without its query (and fragment): what errors, messages and the scope lookup name. */
export function pathOnly(path: string): string {
  return path.split(/[?#]/, 1)[0] ?? path;
}

/** Fills `{name}` placeholders; each value is percent-encoded so an id cannot add path segments. */
export function expandPath(template: string, params: Readonly<Record<string, string | number>> = {}): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined)
      throw new AlarmboxError(`パスの {${key}} に入れる値が指定されていません。`, {
        reason: 'configuration',
      });
    return encodeURIComponent(String(value));
  });
}

/**
 * The scope of the row whose method and template match a concrete path (for the 403 message of a call
 * made with `request(method, path)`); undefined when no row matches.
 */
export function scopeForPath(table: EndpointTable, method: HttpMethod, path: string): string | undefined {
  return rowForPath(table, method, path)?.scope;
}

/** The row of the table whose method and path template match `path` (its query ignored). */
function rowForPath(table: EndpointTable, method: HttpMethod, path: string): EndpointSpec | undefined {
  const bare = pathOnly(path);
  for (const spec of Object.values(table)) {
    if (spec.method !== method) continue;
    const pattern = spec.path
      .split(/\{[A-Za-z0-9_]+\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]+');
    if (new RegExp(`^${pattern}/?$`).test(bare)) return spec;
  }
  return undefined;
}

/**
 * The path template of a call, for span names (few distinct values, no ids): the matching row's template, else
 * the path without its query, with every segment that holds a digit as `{id}`.
 */
export function templateForPath(table: EndpointTable, method: HttpMethod, path: string): string {
  return (
    rowForPath(table, method, path)?.path ??
    pathOnly(path)
      .split('/')
      .map((segment) => (/\d/.test(segment) ? '{id}' : segment))
      .join('/')
  );
}
