// The registered OAuth applications (Doorkeeper's `oauth_applications`): all confidential, sharing the
// configured scopes and redirect URIs; how a request names their credentials and scopes.
import { timingSafeEqual } from 'node:crypto';
import type { ResolvedEmulatorOptions } from './options.ts';
import { type Params, presentParam } from './params.ts';

export interface Application {
  readonly uid: string;
  readonly secret: string;
  readonly scopes: readonly string[];
  readonly redirectUris: readonly string[];
}

export class ApplicationRegistry {
  readonly #byUid = new Map<string, Application>();

  constructor(options: ResolvedEmulatorOptions) {
    const scopes = parseScopes(options.scopes);
    // The main client is the options' own clientId / clientSecret.
    for (const { clientId: uid, clientSecret: secret } of [options, ...options.additionalClients]) {
      this.#byUid.set(uid, { uid, secret, scopes, redirectUris: options.redirectUris });
    }
  }

  /** `Application.by_uid`. */
  byUid(uid: string): Application | undefined {
    return this.#byUid.get(uid);
  }

  /**
   * `Application.by_uid_and_secret` for a confidential application: the secret is compared in constant
   * time (Doorkeeper's `secret_matches?` uses `ActiveSupport::SecurityUtils.secure_compare`).
   */
  authenticate(uid: string, secret: string): Application | undefined {
    const app = this.#byUid.get(uid);
    if (app === undefined) return undefined;
    const given = Buffer.from(secret, 'utf8');
    const expected = Buffer.from(app.secret, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected) ? app : undefined;
  }
}

// Doorkeeper::OAuth::Scopes and Helpers::ScopeChecker, reduced to what the emulator needs.

/** `Scopes.from_string`: Ruby's `String#split` on whitespace runs, duplicates dropped, order kept. */
export function parseScopes(scope: string): string[] {
  return [
    ...new Set(
      scope
        .trim()
        .split(/\s+/)
        .filter((s) => s !== ''),
    ),
  ];
}

/**
 * `ScopeChecker.valid?`: the string is present, has no tab / CR / LF, and every scope is one of `allowed`.
 */
export function isValidScopeString(scope: string, allowed: readonly string[]): boolean {
  if (scope.trim() === '' || /[\t\r\n]/.test(scope)) return false;
  return parseScopes(scope).every((s) => allowed.includes(s));
}

// Doorkeeper::OAuth::Client::Credentials.from_request(request, :from_basic, :from_params): HTTP Basic
// first (RFC 6749 §2.3.1), else `client_id` / `client_secret` parameters (client_secret_post).

export interface ClientCredentials {
  readonly uid: string;
  readonly secret: string;
}

/**
 * The first method that yields credentials wins. `Credentials#blank?` is `uid.blank? || secret.blank?`,
 * so a client_id without a secret counts as "no credentials" (which the refresh grant answers with
 * `invalid_grant`, the code grant with `invalid_client`).
 */
export function clientCredentials(
  authorization: string | undefined,
  params: Params,
): ClientCredentials | undefined {
  return fromBasic(authorization) ?? fromParams(params);
}

function fromBasic(authorization: string | undefined): ClientCredentials | undefined {
  const match = /^Basic (.*)$/s.exec(authorization ?? '');
  if (match === null) return undefined;
  // Ruby's Base64.decode64 is lenient, like Buffer's decoder; `split(/:/, 2)` keeps colons in the secret.
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const uid = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  return uid.trim() === '' || secret.trim() === '' ? undefined : { uid, secret };
}

function fromParams(params: Params): ClientCredentials | undefined {
  const uid = presentParam(params, 'client_id');
  const secret = presentParam(params, 'client_secret');
  return uid === undefined || secret === undefined ? undefined : { uid, secret };
}
