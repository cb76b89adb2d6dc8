// emulator-token: median latency of `POST /oauth/token` (refresh_token grant, client_secret_post, form body)
// over real HTTP, against the floor measured on the same server in the same run: `GET /__emulator/health`.
// Issue requirement: the absolute median stays under 5 ms on the project machine.
import { startEmulator } from '../../src/emulator/index.ts';
import { type BenchCase, median, sample } from '../case.ts';

const WARM_UP = 50;
const SAMPLES = 500;
/** Floor and subject alternate in blocks so that machine noise hits both alike. */
const BLOCK = 50;
const REQUIRED_MEDIAN_MS = 5;

const emulatorToken: BenchCase = {
  name: 'emulator-token',
  async run() {
    const emu = await startEmulator({ port: 0, quiet: true });
    try {
      const { clientId, clientSecret } = emu.options;
      let refreshToken = await firstRefreshToken(emu.url, clientId, clientSecret);
      // Each refresh spends the token the previous one returned, as a real client would.
      const refresh = async () => {
        const res = await fetch(`${emu.url}/oauth/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: refreshToken,
            client_id: clientId,
            client_secret: clientSecret,
          }),
        });
        if (res.status !== 200) throw new Error(`refresh answered ${res.status}`);
        refreshToken = ((await res.json()) as { refresh_token: string }).refresh_token;
      };
      const health = async () => {
        const res = await fetch(`${emu.url}/__emulator/health`);
        await res.json();
      };
      await sample(WARM_UP, health);
      await sample(WARM_UP, refresh);
      const floors: number[] = [];
      const subjects: number[] = [];
      for (let done = 0; done < SAMPLES; done += BLOCK) {
        floors.push(...(await sample(BLOCK, health)));
        subjects.push(...(await sample(BLOCK, refresh)));
      }
      const value = median(subjects);
      const baseline = median(floors);
      const verdict = value < REQUIRED_MEDIAN_MS ? 'ok' : 'NOT MET';
      return {
        name: 'emulator-token',
        value,
        unit: 'ms',
        baseline,
        ratio: value / baseline,
        note: `median ${value.toFixed(3)} ms, required < ${REQUIRED_MEDIAN_MS} ms: ${verdict} (${SAMPLES} samples after ${WARM_UP} warm-up)`,
      };
    } finally {
      await emu.close();
    }
  },
};

export default emulatorToken;

/** One pass through the authorization-code flow (the consent form's POST) to get a refresh token. */
async function firstRefreshToken(url: string, clientId: string, clientSecret: string): Promise<string> {
  const redirectUri = 'urn:ietf:wg:oauth:2.0:oob';
  const approve = await fetch(`${url}/oauth/authorize`, {
    method: 'POST',
    body: new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, response_type: 'code' }),
    redirect: 'manual',
  });
  const code = new URL(approve.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: clientId,
      client_secret: clientSecret,
    }),
  });
  if (res.status !== 200) throw new Error(`code exchange answered ${res.status}`);
  return ((await res.json()) as { refresh_token: string }).refresh_token;
}
