import { createAlarmbox } from 'alarmbox-auth';

export const dynamic = 'force-dynamic';

// One instance per server process.
const alarmbox = createAlarmbox();

/** The masked token and its expiry: never the token itself. */
export async function GET(): Promise<Response> {
  const { accessToken, expiredAt } = await alarmbox.tokens.getValidToken();
  return Response.json({
    masked: `${accessToken.slice(0, 4)}…(${accessToken.length})`,
    expiresAt: expiredAt?.toISOString() ?? null,
  });
}
