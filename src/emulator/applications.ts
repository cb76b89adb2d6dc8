// The registered OAuth applications (Doorkeeper's `oauth_applications`): all confidential, sharing the
// configured scopes and redirect URIs.
import { timingSafeEqual } from 'node:crypto';
import type { ResolvedEmulatorOptions } from './options.ts';
import { parseScopes } from './scopes.ts';

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
    const clients = [
      { clientId: options.clientId, clientSecret: options.clientSecret },
      ...options.additionalClients,
    ];
    for (const c of clients) {
      this.#byUid.set(c.clientId, {
        uid: c.clientId,
        secret: c.clientSecret,
        scopes,
        redirectUris: options.redirectUris,
      });
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
