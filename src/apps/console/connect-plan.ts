// Which ways of connecting AlarmBox the console can offer, from the configured redirect URI:
// - loopback: AlarmBox redirects the browser to this console's /callback, which exchanges the code itself;
//   only when that URI is the one configured (and so, presumably, registered at AlarmBox), or in the
//   sandbox, whose emulator registers http://127.0.0.1/callback for any port (RFC 8252 §7.3).
// - paste: the person copies the code shown by AlarmBox (OOB) or found in the redirect URL, and pastes it.
import { buildAuthorizeUrl } from '../../alarmbox/authorize-url.ts';
import { type AlarmboxConfig, OOB_REDIRECT_URI } from '../../config/index.ts';
import { CONSOLE_HOSTS } from './context.ts';

export interface ConnectPlan {
  /** The redirect URI to send with a loopback authorization, when one is possible. */
  readonly loopbackRedirectUri: string | undefined;
  /** The authorize URL to open and the redirect URI to exchange a pasted code with. */
  readonly paste: { readonly authorizeUrl: string; readonly redirectUri: string } | undefined;
  /** Explanations for the person (why a way is missing, how to enable it). */
  readonly notes: readonly string[];
}

/** `http://127.0.0.1:<port>/callback` */
export function callbackUrl(port: number): string {
  return `http://127.0.0.1:${port}/callback`;
}

/** @throws ConfigError when the client id is not configured (the authorize URL needs it). */
export function connectPlan(config: AlarmboxConfig, port: number, sandbox: boolean): ConnectPlan {
  if (sandbox) {
    return {
      loopbackRedirectUri: callbackUrl(port),
      paste: { authorizeUrl: connectAuthorizeUrl(config, OOB_REDIRECT_URI), redirectUri: OOB_REDIRECT_URI },
      notes: [],
    };
  }
  const configured = config.redirectUri;
  if (isConsoleCallback(configured, port)) {
    // Fails early with the configuration error, as the other branches do.
    connectAuthorizeUrl(config, configured);
    return { loopbackRedirectUri: configured, paste: undefined, notes: [] };
  }
  return {
    loopbackRedirectUri: undefined,
    paste: { authorizeUrl: connectAuthorizeUrl(config, configured), redirectUri: configured },
    notes: [
      configured === OOB_REDIRECT_URI
        ? `自動で戻る連携を使うには、AlarmBox のアプリ設定にリダイレクト URI ${callbackUrl(port)} を登録し、ALARMBOX_REDIRECT_URI=${callbackUrl(port)} を設定してください。`
        : `ALARMBOX_REDIRECT_URI (${configured}) はこのコンソールの ${callbackUrl(port)} ではないため、承認後に移動した先の URL にある code= の値を貼り付けてください。`,
    ],
  };
}

/** The authorize URL for `redirectUri`; a loopback authorization adds its `state`. */
export function connectAuthorizeUrl(config: AlarmboxConfig, redirectUri: string, state?: string): string {
  return buildAuthorizeUrl({
    baseUrl: config.baseUrl,
    clientId: config.clientId(),
    redirectUri,
    scope: config.scope,
    state,
  });
}

function isConsoleCallback(uri: string, port: number): boolean {
  if (!URL.canParse(uri)) return false;
  const url = new URL(uri);
  return (
    url.protocol === 'http:' &&
    (CONSOLE_HOSTS as readonly string[]).includes(url.hostname) &&
    url.port === String(port) &&
    url.pathname === '/callback'
  );
}
