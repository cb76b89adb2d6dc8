// Doorkeeper::OAuth::Client::Credentials.from_request(request, :from_basic, :from_params): HTTP Basic
// first (RFC 6749 §2.3.1), else `client_id` / `client_secret` parameters (client_secret_post).
import { type Params, presentParam } from './params.ts';

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
  return credentials(decoded.slice(0, colon), decoded.slice(colon + 1));
}

function fromParams(params: Params): ClientCredentials | undefined {
  const uid = presentParam(params, 'client_id');
  const secret = presentParam(params, 'client_secret');
  return uid === undefined || secret === undefined ? undefined : { uid, secret };
}

function credentials(uid: string, secret: string): ClientCredentials | undefined {
  return uid.trim() === '' || secret.trim() === '' ? undefined : { uid, secret };
}
