// A TypeScript app using the installed package the way the README shows: copied into a temporary project by
// tests/package/pack.test.ts, typechecked there (strict, nodenext, skipLibCheck false) and run on each Node.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Alarmbox,
  AlarmboxAPIError,
  AlarmboxTokenNotFoundError,
  buildAuthorizeUrl,
  createAlarmbox,
  type RefreshResult,
} from 'alarmbox-auth';
import { OOB_REDIRECT_URI, startEmulator } from 'alarmbox-auth/emulator';

const emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
const alarmbox: Alarmbox = createAlarmbox({
  env: 'dev',
  databaseUrl: `sqlite:${join(mkdtempSync(join(tmpdir(), 'alarmbox-consumer-')), 'app.db')}`,
  encryptionKeys: `k1:${randomBytes(32).toString('base64')}`,
  baseUrl: emulator.url,
  clientId: emulator.options.clientId,
  clientSecret: emulator.options.clientSecret,
});
try {
  await alarmbox.migrate();
  const missing = await alarmbox.tokens.getValidAccessToken().catch((error: unknown) => error);
  if (!(missing instanceof AlarmboxTokenNotFoundError && missing instanceof AlarmboxAPIError))
    throw new Error('expected AlarmboxTokenNotFoundError before a token is saved');

  // The person approves in the browser; the emulator shows the code on its OOB page.
  const authorize = buildAuthorizeUrl({
    baseUrl: emulator.url,
    clientId: emulator.options.clientId,
    redirectUri: OOB_REDIRECT_URI,
    scope: 'read customer:delete customer:create credit_check:create',
  });
  const redirect = await fetch(authorize, { redirect: 'manual' });
  const page = await (await fetch(new URL(redirect.headers.get('location') ?? '', emulator.url))).text();
  const code = /<code id="authorization_code">([^<]+)<\/code>/.exec(page)?.[1];
  if (code === undefined) throw new Error('no code on the OOB page');

  const saved = await alarmbox.exchangeCode(code);
  const first: string = await alarmbox.tokens.getValidAccessToken();
  const refreshed: RefreshResult = await alarmbox.tokens.refresh({ force: true });
  const second = await alarmbox.tokens.getValidAccessToken();
  if (second === first) throw new Error('a forced refresh kept the same access token');
  console.log(
    JSON.stringify({
      saved: saved.expiredAt !== null,
      read: first.length > 0,
      refreshed: refreshed.refreshed,
      node: process.versions.node,
    }),
  );
} finally {
  await alarmbox.close();
  await emulator.close();
}
