// The emulator's configuration: one registered OAuth application (Doorkeeper's `oauth_applications`
// row), the token lifetime and the refresh-token rotation mode, which AlarmBox does not document.

/**
 * How a refresh retires the old pair (docs/design.md「AlarmBox について分かっていること」, "Refresh-token rotation"):
 * - `on_use`: Doorkeeper's default install (`previous_refresh_token` column present): the old pair stays
 *   valid until the new access token is first used.
 * - `immediate`: the old pair is revoked inside the refresh itself.
 */
export type RotationMode = 'on_use' | 'immediate';

const ROTATION_MODES: readonly RotationMode[] = ['on_use', 'immediate'];

/** A client registered next to the main one (e.g. to prove that a code issued to another client is refused). */
export interface EmulatorClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Options of `startEmulator`; every one has a default (`EMULATOR_DEFAULTS`). */
export interface EmulatorOptions {
  /** Interface to bind. Default `127.0.0.1` (loopback only). */
  readonly host?: string;
  /** TCP port. Default 4010; 0 picks any free port (read the real one from `RunningEmulator.url`). */
  readonly port?: number;
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Access-token lifetime in seconds. Default 86400. 0 or null: tokens never expire (no `expires_in`). */
  readonly accessTtl?: number | null;
  readonly rotation?: RotationMode;
  /** Answer `GET /oauth/authorize` with the approval redirect at once, without the consent page. */
  readonly autoApprove?: boolean;
  /** The application's scopes, space separated; also the default when a request names none. */
  readonly scopes?: string;
  /**
   * Registered redirect URIs. Default: the OOB URI and `http://127.0.0.1/callback`. A loopback `http` URI
   * matches whatever port the request names (RFC 8252 §7.3, as Doorkeeper's URIChecker does).
   */
  readonly redirectUris?: readonly string[];
  /** More registered clients sharing the scopes and redirect URIs of the main one. */
  readonly additionalClients?: readonly EmulatorClient[];
  /** No request log. */
  readonly quiet?: boolean;
  /** Where the request log goes (one line per request; never a token, code or secret). Default: stderr. */
  readonly log?: (line: string) => void;
  /**
   * Serve HTTPS with this certificate and key (PEM) instead of plain HTTP: to try the toolkit through a
   * TLS-inspecting proxy or against a certificate of your own CA. `RunningEmulator.url` is then `https://…`.
   */
  readonly tls?: EmulatorTls;
}

/** The emulator's TLS certificate and private key, PEM text. */
export interface EmulatorTls {
  readonly cert: string;
  readonly key: string;
}

/** The emulator's options with every default applied. */
export interface ResolvedEmulatorOptions {
  readonly host: string;
  readonly port: number;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Seconds; null = never expires. */
  readonly accessTtl: number | null;
  readonly rotation: RotationMode;
  readonly autoApprove: boolean;
  readonly scopes: string;
  readonly redirectUris: readonly string[];
  readonly additionalClients: readonly EmulatorClient[];
  readonly quiet: boolean;
}

/** The out-of-band redirect URI: AlarmBox shows the authorization code on a page instead of redirecting. */
export const OOB_REDIRECT_URI = 'urn:ietf:wg:oauth:2.0:oob';

/** The emulator's settings when none are given. */
export const EMULATOR_DEFAULTS = {
  host: '127.0.0.1',
  port: 4010,
  clientId: 'local-client-id',
  clientSecret: 'local-client-secret',
  accessTtl: 86400,
  rotation: 'on_use',
  autoApprove: false,
  scopes: 'read customer:delete customer:create credit_check:create',
  redirectUris: [OOB_REDIRECT_URI, 'http://127.0.0.1/callback'],
} as const;

/** Fills the defaults and rejects values the emulator cannot run with (message in Japanese, for people). */
export function resolveEmulatorOptions(options: EmulatorOptions = {}): ResolvedEmulatorOptions {
  const port = options.port ?? EMULATOR_DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port は 0〜65535 の整数で指定してください (例: 4010)。指定値: ${String(port)}`);
  }
  const ttl = options.accessTtl === undefined ? EMULATOR_DEFAULTS.accessTtl : options.accessTtl;
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < 0)) {
    throw new RangeError(
      `accessTtl は 0 以上の整数 (秒) で指定してください (例: 86400)。指定値: ${String(ttl)}`,
    );
  }
  const rotation = options.rotation ?? EMULATOR_DEFAULTS.rotation;
  if (!ROTATION_MODES.includes(rotation)) {
    throw new RangeError(`rotation は on_use か immediate を指定してください。指定値: ${String(rotation)}`);
  }
  const scopes = (options.scopes ?? EMULATOR_DEFAULTS.scopes).trim().split(/\s+/).join(' ');
  if (scopes === '') throw new RangeError('scopes に 1 つ以上のスコープを指定してください (例: "read")。');
  const clientId = options.clientId ?? EMULATOR_DEFAULTS.clientId;
  const clientSecret = options.clientSecret ?? EMULATOR_DEFAULTS.clientSecret;
  for (const client of [{ clientId, clientSecret }, ...(options.additionalClients ?? [])]) {
    if (client.clientId.trim() === '' || client.clientSecret.trim() === '') {
      throw new RangeError('clientId と clientSecret には空でない文字列を指定してください。');
    }
  }
  return {
    host: options.host ?? EMULATOR_DEFAULTS.host,
    port,
    clientId,
    clientSecret,
    // Doorkeeper stores `expires_in = nil` for tokens that never expire; 0 means the same here.
    accessTtl: ttl === 0 ? null : ttl,
    rotation,
    autoApprove: options.autoApprove ?? EMULATOR_DEFAULTS.autoApprove,
    scopes,
    redirectUris: [...(options.redirectUris ?? EMULATOR_DEFAULTS.redirectUris)],
    additionalClients: (options.additionalClients ?? []).map((c) => ({ ...c })),
    quiet: options.quiet ?? false,
  };
}

/** Options of `RunningEmulator.issueAuthorizationCode`. */
export interface IssueCodeOptions {
  /** Space-separated scopes; default: every scope of the application (as a request without `scope`). */
  readonly scope?: string | undefined;
  /** The redirect URI the exchange will name; default: the OOB URI (`urn:ietf:wg:oauth:2.0:oob`). */
  readonly redirectUri?: string | undefined;
  /** Another registered client (`additionalClients`); default: the main one. */
  readonly clientId?: string | undefined;
}
