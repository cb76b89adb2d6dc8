// Fault injection: what the next requests of an endpoint should suffer. Set through
// `RunningEmulator.setFaults` or `PUT /__emulator/faults`; applied by fault-injection.ts.
import { isJsonObject } from './params.ts';

/** The emulator endpoints that faults can be injected into. */
export type FaultEndpoint = 'token' | 'authorize' | 'revoke' | 'tokenInfo' | 'api';
export const FAULT_ENDPOINTS: readonly FaultEndpoint[] = ['token', 'authorize', 'revoke', 'tokenInfo', 'api'];

/** One endpoint's fault: delays, errors or broken answers for the next requests. */
export interface FaultSpec {
  /** Wait this long before processing the request. */
  readonly delayMs?: number;
  /**
   * Answer this status without processing the request (as a failing proxy or server would). 401 answers as
   * Doorkeeper does for a rejected token (empty body, `WWW-Authenticate: … error="invalid_token"`), whatever
   * the token: a token AlarmBox revoked on its side, which no refresh brings back. 400 is a server that refuses
   * the request with a body of its own (with `echo`, a JSON error whose `error` quotes the request).
   */
  readonly status?: 500 | 502 | 503 | 429 | 401 | 400;
  /**
   * The body to send: with `status`, the body of that answer (default `html`); without `status`, the
   * request is processed normally (a grant is committed) and its body is replaced.
   */
  readonly body?: 'html' | 'broken-json' | 'empty' | 'huge';
  /**
   * Issue access and refresh tokens of this many characters (a Doorkeeper with a custom generator, e.g. JWT);
   * the emulator accepts them afterwards like any other.
   */
  readonly tokenLength?: number;
  /**
   * Close the socket without answering: `before` processing, or `after-commit` = process the request
   * (rotation committed, stats counted) and then destroy the connection, so the answer is lost; `mid-body`:
   * the grant is committed, the headers and half the body are sent, then the connection is reset.
   */
  readonly drop?: 'before' | 'after-commit' | 'mid-body';
  /**
   * Tamper with a successful JSON body: drop keys, then set keys (e.g. `{ "token_type": "mac" }`); `status`
   * replaces the 2xx status (an older AlarmBox document says 201 for a created credit check).
   */
  readonly response?: {
    readonly omit?: readonly string[];
    readonly set?: Readonly<Record<string, unknown>>;
    readonly status?: 200 | 201;
  };
  /**
   * Answer an OAuth error (RFC 6749 §5.2) with these values, without processing the request: the JSON body
   * `{"error": …, "error_description": …}` with `status` (default 400), any JSON values (control characters,
   * a forged second line, a number). No `WWW-Authenticate` header, unlike Doorkeeper: a header cannot carry
   * such text, and a proxy or another server in front may well answer without one.
   */
  readonly oauthError?: {
    readonly status?: 400 | 401;
    readonly error: unknown;
    readonly error_description?: unknown;
  };
  /** Apply to the next N requests of the endpoint only; default: until cleared. */
  readonly times?: number;
  /** `Retry-After` header (seconds) on the `status` answer. */
  readonly retryAfter?: number;
  /**
   * Quote the request back in an error answer (any status of 400 or more, injected or from processing it), as
   * a server that puts its debugging output in its answers does: `error_description` lists every parameter
   * value (form, JSON or query) and the credentials of the `Authorization` header, without their names, and
   * `request` holds the raw body. For testing that a client redacts what it sent by value, not by pattern.
   */
  readonly echo?: boolean;
}

/** The faults to inject, per endpoint. */
export type FaultPlan = { readonly [K in FaultEndpoint]?: FaultSpec };

const FAULT_STATUSES = [500, 502, 503, 429, 401, 400] as const;
const FAULT_BODIES = ['html', 'broken-json', 'empty', 'huge'] as const;
/** What `body: 'huge'` streams, lazily: 1 GiB, so a client that reads it whole runs out of time and memory. */
export const HUGE_BODY_BYTES = 1024 * 1024 * 1024;
const FAULT_DROPS = ['before', 'after-commit', 'mid-body'] as const;

export class FaultPlanError extends Error {
  override readonly name = 'FaultPlanError';
}

/** Checks a plan that came from outside (JSON): unknown keys are refused, a typo must not pass silently. */
export function parseFaultPlan(value: unknown): FaultPlan {
  if (!isJsonObject(value)) {
    throw new FaultPlanError(
      'FaultPlan は JSON オブジェクトで指定してください (例: {"token":{"status":503}})。',
    );
  }
  const plan: { [K in FaultEndpoint]?: FaultSpec } = {};
  for (const [key, spec] of Object.entries(value)) {
    if (!isFaultEndpoint(key)) {
      throw new FaultPlanError(
        `未知のエンドポイント "${key}" です。${FAULT_ENDPOINTS.join(' / ')} のいずれかを指定してください。`,
      );
    }
    if (spec === null || spec === undefined) continue;
    plan[key] = parseFaultSpec(key, spec);
  }
  return plan;
}

const SPEC_KEYS = [
  'delayMs',
  'status',
  'body',
  'drop',
  'response',
  'times',
  'retryAfter',
  'tokenLength',
  'oauthError',
  'echo',
] as const;

function parseFaultSpec(endpoint: string, value: unknown): FaultSpec {
  const where = `faults.${endpoint}`;
  if (!isJsonObject(value)) {
    throw new FaultPlanError(`${where} はオブジェクトで指定してください (例: {"status":503})。`);
  }
  refuseUnknownKeys(where, value, SPEC_KEYS);
  const { delayMs, status, body, drop, response, times, retryAfter, tokenLength, oauthError, echo } = value;
  const integer = (v: unknown, min: number, max: number, rule: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new FaultPlanError(`${where}.${rule}`);
    }
    return v;
  };
  const oneOf = <T>(name: string, v: unknown, allowed: readonly T[]): T => {
    const found = allowed.find((x) => x === v);
    if (found === undefined) {
      throw new FaultPlanError(`${where}.${name} は ${allowed.join(' / ')} のいずれかです。`);
    }
    return found;
  };
  const spec: { -readonly [K in keyof FaultSpec]: FaultSpec[K] } = {};
  if (delayMs !== undefined) {
    spec.delayMs = integer(delayMs, 0, 600_000, 'delayMs は 0〜600000 の整数 (ミリ秒) で指定してください。');
  }
  if (status !== undefined) spec.status = oneOf('status', status, FAULT_STATUSES);
  if (body !== undefined) spec.body = oneOf('body', body, FAULT_BODIES);
  if (drop !== undefined) spec.drop = oneOf('drop', drop, FAULT_DROPS);
  if (response !== undefined) spec.response = parseResponseTamper(where, response);
  if (oauthError !== undefined) spec.oauthError = parseOAuthError(where, oauthError);
  if (tokenLength !== undefined) {
    spec.tokenLength = integer(
      tokenLength,
      1,
      1_000_000,
      'tokenLength は 1〜1000000 の整数 (文字数) で指定してください。',
    );
  }
  if (times !== undefined) spec.times = integer(times, 1, Infinity, 'times は 1 以上の整数です。');
  if (retryAfter !== undefined) {
    spec.retryAfter = integer(retryAfter, 0, Infinity, 'retryAfter は 0 以上の整数 (秒) です。');
  }
  if (echo !== undefined) {
    if (typeof echo !== 'boolean') throw new FaultPlanError(`${where}.echo は true か false です。`);
    spec.echo = echo;
  }
  return spec;
}

function parseResponseTamper(where: string, value: unknown): NonNullable<FaultSpec['response']> {
  if (!isJsonObject(value)) {
    throw new FaultPlanError(`${where}.response は {"omit":[…],"set":{…}} の形で指定してください。`);
  }
  refuseUnknownKeys(`${where}.response`, value, ['omit', 'set', 'status']);
  const { omit, set, status } = value;
  if (status !== undefined && status !== 200 && status !== 201) {
    throw new FaultPlanError(`${where}.response.status は 200 か 201 です。`);
  }
  if (omit !== undefined && !(Array.isArray(omit) && omit.every((k) => typeof k === 'string'))) {
    throw new FaultPlanError(`${where}.response.omit はキー名の配列です (例: ["expires_in"])。`);
  }
  if (set !== undefined && !isJsonObject(set)) {
    throw new FaultPlanError(`${where}.response.set はオブジェクトです (例: {"token_type":"mac"})。`);
  }
  return {
    ...(omit === undefined ? {} : { omit: [...(omit as string[])] }),
    ...(set === undefined ? {} : { set: { ...set } }),
    ...(status === undefined ? {} : { status }),
  };
}

function parseOAuthError(where: string, value: unknown): NonNullable<FaultSpec['oauthError']> {
  if (!isJsonObject(value) || !('error' in value)) {
    throw new FaultPlanError(
      `${where}.oauthError は {"error": …, "error_description": …, "status": 400|401} の形で指定してください。`,
    );
  }
  refuseUnknownKeys(`${where}.oauthError`, value, ['error', 'error_description', 'status']);
  const { status, error, error_description } = value;
  if (status !== undefined && status !== 400 && status !== 401) {
    throw new FaultPlanError(`${where}.oauthError.status は 400 か 401 です。`);
  }
  return {
    error,
    ...(error_description === undefined ? {} : { error_description }),
    ...(status === undefined ? {} : { status }),
  };
}

/** A typo (`dealyMs`) must not pass silently as "no fault". */
function refuseUnknownKeys(where: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new FaultPlanError(`${where}.${key} は未知の項目です (${known.join(', ')})。`);
    }
  }
}

/** The active plan, with the remaining `times` of each spec. */
export class FaultController {
  /** Per endpoint, in FAULT_ENDPOINTS order: the spec and, with `times`, how many requests it still applies to. */
  #plan = new Map<FaultEndpoint, { readonly spec: FaultSpec; left: number | undefined }>();

  /** Replaces the whole plan (`{}` clears it). Validates it as if it came from JSON. */
  set(plan: FaultPlan): void {
    const parsed = parseFaultPlan(JSON.parse(JSON.stringify(plan)) as unknown);
    this.#plan = new Map();
    for (const endpoint of FAULT_ENDPOINTS) {
      const spec = parsed[endpoint];
      if (spec !== undefined) this.#plan.set(endpoint, { spec, left: spec.times });
    }
  }

  /** The spec that applies to this request of `endpoint`, consuming one of its `times`. */
  take(endpoint: FaultEndpoint): FaultSpec | undefined {
    const entry = this.#plan.get(endpoint);
    if (entry?.left !== undefined && --entry.left === 0) this.#plan.delete(endpoint);
    return entry?.spec;
  }

  /** The plan as it stands, `times` showing what is left. */
  current(): FaultPlan {
    const plan: { [K in FaultEndpoint]?: FaultSpec } = {};
    for (const [endpoint, { spec, left }] of this.#plan) {
      plan[endpoint] = left === undefined ? spec : { ...spec, times: left };
    }
    return plan;
  }

  clear(): void {
    this.#plan.clear();
  }
}

function isFaultEndpoint(value: string): value is FaultEndpoint {
  return (FAULT_ENDPOINTS as readonly string[]).includes(value);
}
