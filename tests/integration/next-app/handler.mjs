// A serverless-style handler: bundled with esbuild, then run from an empty folder.
import { createAlarmbox } from 'alarmbox-auth';

const alarmbox = createAlarmbox();

export async function handler() {
  const token = await alarmbox.tokens.getValidAccessToken();
  return { statusCode: 200, body: JSON.stringify({ masked: `${token.slice(0, 4)}…(${token.length})` }) };
}
