// Plays the person in the browser against the emulator: authorize (auto-approve) and read the OOB code.
import { buildAuthorizeUrl } from '../../src/alarmbox/authorize-url.ts';
import { DEFAULT_SCOPE, OOB_REDIRECT_URI } from '../../src/config/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';

export async function obtainCode(
  emulator: RunningEmulator,
  redirectUri: string = OOB_REDIRECT_URI,
  scope: string = DEFAULT_SCOPE,
): Promise<string> {
  const url = buildAuthorizeUrl({
    baseUrl: emulator.url,
    clientId: emulator.options.clientId,
    redirectUri,
    scope,
  });
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || location === null) throw new Error(`authorize answered ${res.status}`);
  const target = new URL(location, emulator.url);
  const direct = target.searchParams.get('code');
  if (redirectUri !== OOB_REDIRECT_URI && direct !== null) return direct;
  const html = await (await fetch(target)).text();
  const code = /<code id="authorization_code">([^<]+)<\/code>/.exec(html)?.[1];
  if (code === undefined) throw new Error('no code on the OOB page');
  return code;
}

/** Calls the protected API with a token and returns the status (200 = the token is live). */
export async function apiStatus(emulator: RunningEmulator, accessToken: string): Promise<number> {
  const res = await fetch(new URL('/oauth/token/info', emulator.url), {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  await res.body?.cancel();
  return res.status;
}
